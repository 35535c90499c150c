using System.Text;

namespace FleetSim.Scenarios.Templates;

/// <summary>
/// Splits template text into literal and generator segments. It tracks JSON strings (quotes and backslash
/// escapes) outside expressions, so it knows where each expression lands: a whole string, part of a
/// string, or outside strings.
/// </summary>
internal static class TemplateCompiler
{
    public static PayloadTemplate.Segment[] Compile(string source, List<TemplateError> errors)
    {
        var segments = new List<PayloadTemplate.Segment>();
        var literal = new StringBuilder();
        var inString = false;
        var stringStart = -1;
        var i = 0;
        while (i < source.Length)
        {
            var c = source[i];
            if (c == '{' && i + 1 < source.Length && source[i + 1] == '{')
            {
                var close = source.IndexOf("}}", i + 2, StringComparison.Ordinal);
                if (close < 0)
                {
                    errors.Add(new TemplateError(i, "'{{' is not closed by '}}'", "write expressions as {{name args}}"));
                    return [];
                }
                var before = errors.Count;
                var words = Tokenize(source, i + 2, close, errors);
                var generator = errors.Count > before ? null : TemplateArguments.Create(words, i, errors);
                var next = close + 2;
                var placement = inString ? ValuePlacement.InString : ValuePlacement.Raw;
                if (inString && stringStart == i - 1 && next < source.Length && source[next] == '"')
                {
                    placement = ValuePlacement.Value;
                    literal.Length--; // the opening quote
                    next++;           // the closing quote
                    inString = false;
                }
                Flush(segments, literal);
                if (generator is not null)
                {
                    segments.Add(new PayloadTemplate.Segment([], generator, placement));
                }
                i = next;
                continue;
            }
            if (inString && c == '\\' && i + 1 < source.Length)
            {
                literal.Append(c).Append(source[i + 1]);
                i += 2;
                continue;
            }
            if (c == '"')
            {
                inString = !inString;
                stringStart = inString ? i : -1;
            }
            literal.Append(c);
            i++;
        }
        Flush(segments, literal);
        return [.. segments];
    }

    private static void Flush(List<PayloadTemplate.Segment> segments, StringBuilder literal)
    {
        if (literal.Length > 0)
        {
            segments.Add(new PayloadTemplate.Segment(Encoding.UTF8.GetBytes(literal.ToString()), null, ValuePlacement.Raw));
            literal.Clear();
        }
    }

    /// <summary>Words separated by spaces; 'single' or "double" quotes keep spaces (backslash escapes the quote).</summary>
    private static List<TemplateToken> Tokenize(string source, int start, int end, List<TemplateError> errors)
    {
        var words = new List<TemplateToken>();
        var i = start;
        while (i < end)
        {
            if (char.IsWhiteSpace(source[i]))
            {
                i++;
                continue;
            }
            var quote = source[i];
            if (quote is '"' or '\'')
            {
                var text = new StringBuilder();
                var j = i + 1;
                while (j < end && source[j] != quote)
                {
                    if (source[j] == '\\' && j + 1 < end)
                    {
                        j++;
                    }
                    text.Append(source[j]);
                    j++;
                }
                if (j >= end)
                {
                    errors.Add(new TemplateError(i, $"quoted argument is not closed by {quote}"));
                    return words;
                }
                words.Add(new TemplateToken(text.ToString(), i, true));
                i = j + 1;
                continue;
            }
            var begin = i;
            while (i < end && !char.IsWhiteSpace(source[i]))
            {
                i++;
            }
            words.Add(new TemplateToken(source[begin..i], begin, false));
        }
        return words;
    }
}
