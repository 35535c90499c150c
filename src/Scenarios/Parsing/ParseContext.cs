using System.Globalization;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FleetSim.Scenarios.Parsing;

/// <summary>
/// State of one parse: the errors found so far, where each YAML node came from (the file, or a --set
/// override), the environment for ${VAR} interpolation, and typed reading of scalars with positioned errors.
/// </summary>
internal sealed class ParseContext(string file, string text, Func<string, string?> environment, SchemaCatalog schema)
{
    private readonly Dictionary<YamlNode, (string File, int ColumnShift)> origins = new(ReferenceEqualityComparer.Instance);
    private string[]? lines;

    public SchemaCatalog Schema { get; } = schema;

    public List<ScenarioError> Errors { get; } = [];

    public string File { get; } = file;

    public void SetOrigin(YamlNode node, string originFile, int columnShift) => origins[node] = (originFile, columnShift);

    public void Error(YamlNode node, string message, string? hint = null) => ErrorAt(node, node.Start.Line, node.Start.Column, message, hint);

    public void ErrorAt(Mark mark, string message, string? hint = null) =>
        Errors.Add(new ScenarioError(File, Math.Max(1, (int)mark.Line), Math.Max(1, (int)mark.Column), message, hint));

    /// <summary>An error at a character offset inside a scalar's value (template and threshold text).</summary>
    public void ErrorInScalar(YamlNode node, int offset, string message, string? hint = null)
    {
        if (node is not YamlScalarNode scalar || scalar.Value is null || offset < 0)
        {
            Error(node, message, hint);
            return;
        }
        var value = scalar.Value;
        offset = Math.Min(offset, value.Length);
        var newlines = 0;
        var lineStart = 0;
        for (var i = 0; i < offset; i++)
        {
            if (value[i] == '\n')
            {
                newlines++;
                lineStart = i + 1;
            }
        }
        var start = scalar.Start;
        if (scalar.Style is ScalarStyle.Literal or ScalarStyle.Folded)
        {
            var line = (int)start.Line + 1 + newlines;
            ErrorAt(node, line, BlockIndentation((int)start.Line + 1) + 1 + (offset - lineStart), message, hint);
        }
        else if (newlines == 0)
        {
            var quoted = scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted ? 1 : 0;
            ErrorAt(node, start.Line, start.Column + quoted + offset, message, hint);
        }
        else
        {
            var line = (int)start.Line + newlines;
            ErrorAt(node, line, Indentation(line) + 1 + (offset - lineStart), message, hint);
        }
    }

    private void ErrorAt(YamlNode node, long line, long column, string message, string? hint)
    {
        if (origins.TryGetValue(node, out var origin))
        {
            Errors.Add(new ScenarioError(origin.File, 1, Math.Max(1, origin.ColumnShift + (int)column), message, hint));
            return;
        }
        Errors.Add(new ScenarioError(File, Math.Max(1, (int)line), Math.Max(1, (int)column), message, hint));
    }

    /// <summary>The indentation a block scalar strips: that of its first non-blank content line.</summary>
    private int BlockIndentation(int firstLine)
    {
        lines ??= text.Split('\n');
        for (var line = firstLine; line <= lines.Length; line++)
        {
            if (lines[line - 1].Trim().Length > 0)
            {
                return Indentation(line);
            }
        }
        return 0;
    }

    private int Indentation(int line)
    {
        lines ??= text.Split('\n');
        if (line < 1 || line > lines.Length)
        {
            return 0;
        }
        var s = lines[line - 1];
        var n = 0;
        while (n < s.Length && s[n] == ' ')
        {
            n++;
        }
        return n;
    }

    public static bool IsNull(YamlNode? node) =>
        node is null || (node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } s && s.Value is null or "" or "~" or "null" or "Null" or "NULL");

    public static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode s when IsNull(s) => "nothing",
        YamlScalarNode { Style: ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted } s => $"the string '{s.Value}'",
        YamlScalarNode s => $"'{s.Value}'",
        _ => "something else",
    };

    /// <summary>A scalar's text with ${VAR} replaced ($${ stays a literal ${); null (error added) when not a scalar or a variable is unset.</summary>
    public string? Text(YamlNode node, string expected)
    {
        if (node is not YamlScalarNode scalar || IsNull(node))
        {
            Error(node, $"expected {expected}, found {Describe(node)}");
            return null;
        }
        var value = scalar.Value ?? "";
        if (!value.Contains("${", StringComparison.Ordinal))
        {
            return value;
        }
        var result = new StringBuilder(value.Length);
        var ok = true;
        var i = 0;
        while (i < value.Length)
        {
            if (value[i] == '$' && i + 2 < value.Length && value[i + 1] == '$' && value[i + 2] == '{')
            {
                result.Append("${");
                i += 3;
                continue;
            }
            if (value[i] == '$' && i + 1 < value.Length && value[i + 1] == '{')
            {
                var close = value.IndexOf('}', i + 2);
                var name = close < 0 ? "" : value[(i + 2)..close];
                if (close < 0 || !IsVariableName(name))
                {
                    ErrorInScalar(node, i, "malformed environment variable reference", "write ${NAME} with letters, digits and _; write $${ for a literal ${");
                    return null;
                }
                var variable = environment(name);
                if (variable is null)
                {
                    ErrorInScalar(node, i, $"environment variable '{name}' is not set", $"set {name} or change the scenario");
                    ok = false;
                }
                result.Append(variable);
                i = close + 1;
                continue;
            }
            result.Append(value[i]);
            i++;
        }
        return ok ? result.ToString() : null;
    }

    private static bool IsVariableName(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsQuoted(YamlNode node) => node is YamlScalarNode { Style: ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted } s
        && !(s.Value ?? "").Contains("${", StringComparison.Ordinal);

    public long? Integer(YamlNode node, long min, long max)
    {
        var text = Text(node, "a whole number");
        if (text is null)
        {
            return null;
        }
        if (IsQuoted(node) || !long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            Error(node, $"expected a whole number, found {Describe(node)}", double.TryParse(text, CultureInfo.InvariantCulture, out _) ? "no fractions here" : null);
            return null;
        }
        if (value < min || value > max)
        {
            Error(node, $"{value} is out of range", max == long.MaxValue ? $"expected {min} or more" : $"expected {min} to {max}");
            return null;
        }
        return value;
    }

    public double? Number(YamlNode node, double min, double max, bool exclusiveMin)
    {
        var text = Text(node, "a number");
        if (text is null)
        {
            return null;
        }
        if (IsQuoted(node) || !double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            Error(node, $"expected a number, found {Describe(node)}");
            return null;
        }
        if ((exclusiveMin ? value <= min : value < min) || value > max)
        {
            var low = min.ToString(CultureInfo.InvariantCulture);
            Error(node, $"{text.Trim()} is out of range",
                exclusiveMin ? $"expected more than {low}" : max == double.MaxValue ? $"expected {low} or more" : $"expected {low} to {max.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }
        return value;
    }

    public TimeSpan? Duration(YamlNode node, TimeSpan min, TimeSpan max)
    {
        var text = Text(node, "a duration such as 30s");
        if (text is null)
        {
            return null;
        }
        if (!DurationText.TryParse(text, out var value, out var error))
        {
            Error(node, "duration " + error);
            return null;
        }
        if (value < min || value > max)
        {
            Error(node, $"duration {text} is out of range", $"expected {DurationText.Format(min)} to {DurationText.Format(max)}");
            return null;
        }
        return value;
    }

    public bool? Bool(YamlNode node)
    {
        var text = Text(node, "true or false");
        switch (text)
        {
            case null: return null;
            case "true" or "True" or "TRUE": return true;
            case "false" or "False" or "FALSE": return false;
        }
        Error(node, $"expected true or false, found {Describe(node)}", text is "yes" or "no" or "on" or "off" ? "YAML 1.2: write true or false" : null);
        return null;
    }

    /// <summary>One of the values of the schema enum <paramref name="enumDefinition"/>.</summary>
    public string? Enum(YamlNode node, string enumDefinition)
    {
        var allowed = Schema.EnumValues(enumDefinition);
        var text = Text(node, "one of " + string.Join(", ", allowed));
        if (text is null)
        {
            return null;
        }
        foreach (var value in allowed)
        {
            if (string.Equals(value, text, StringComparison.Ordinal))
            {
                return value;
            }
        }
        var suggestion = DidYouMean.Suggest(text, allowed);
        Error(node, $"'{text}' is not a valid {enumDefinition}",
            (suggestion is null ? "" : $"did you mean '{suggestion}'? ") + "expected one of " + string.Join(", ", allowed));
        return null;
    }
}
