using System.Text;
using System.Text.RegularExpressions;

namespace FleetSim.Protocol;

/// <summary>
/// Removes secrets (keys, signatures, SAS tokens, passwords) from any text bound for a log, console or report. It
/// matches what the parsers accept, not one spelling: connection-string and JSON names in any case and with spaces
/// around '=' or ':', quoted values with spaces, and YAML block scalars (<c>password: |</c> and the lines below it).
/// </summary>
public static partial class Redaction
{
    public const string Mask = "***";

    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return text ?? "";
        var result = BlockScalars(text);
        result = KeyPattern().Replace(result, m => m.Groups[1].Value + Mask);
        result = QuotedPasswordPattern().Replace(result, m => m.Groups[1].Value + m.Groups[2].Value + Mask + m.Groups[2].Value);
        result = PasswordPattern().Replace(result, m => m.Groups[1].Value + Mask);
        result = BasicPattern().Replace(result, m => m.Groups[1].Value + Mask);
        return SignaturePattern().Replace(result, m => m.Groups[1].Value + Mask);
    }

    /// <summary>
    /// A secret's name followed by a YAML block scalar indicator (<c>|</c>, <c>&gt;</c>, with chomping/indent marks):
    /// every line indented deeper than the name's line is its value and becomes <see cref="Mask"/> (line count kept).
    /// </summary>
    private static string BlockScalars(string text)
    {
        if (!BlockHeaderPattern().IsMatch(text))
            return text;
        var lines = text.Split('\n');
        var output = new StringBuilder(text.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            if (i > 0)
                output.Append('\n');
            output.Append(lines[i]);
            if (!BlockHeaderPattern().IsMatch(lines[i]))
                continue;
            var indent = Indent(lines[i]);
            while (i + 1 < lines.Length && (lines[i + 1].Trim().Length == 0 || Indent(lines[i + 1]) > indent))
            {
                i++;
                var line = lines[i];
                output.Append('\n');
                if (line.Trim().Length > 0)
                    output.Append(line.AsSpan(0, Indent(line))).Append(Mask).Append(line.EndsWith('\r') ? "\r" : "");
                else
                    output.Append(line);
            }
        }

        return output.ToString();
    }

    private static int Indent(string line)
    {
        var n = 0;
        while (n < line.Length && line[n] is ' ' or '\t')
            n++;
        return n;
    }

    private const string SecretNames = "SharedAccessKey|SharedAccessSignature|PrimaryKey|SecondaryKey|password";

    [GeneratedRegex(@"\b(?:" + SecretNames + @")[""']?[ \t]*:[ \t]*[|>][-+0-9]*[ \t]*(?:#.*)?\r?$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex BlockHeaderPattern();

    // SharedAccessKey=…, SharedAccessSignature=…, primaryKey: … in any case (the connection-string parser ignores case),
    // up to ';', a quote, whitespace, ',' or '}'.
    [GeneratedRegex(@"(\b(?:SharedAccessKey|SharedAccessSignature|PrimaryKey|SecondaryKey)[""']?\s*[=:]\s*[""']?)(?:SharedAccessSignature\s+)?(?!\*\*\*)[^;""'\s,}]+", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex KeyPattern();

    // password: "two words", 'x' (quoted: everything up to the closing quote).
    [GeneratedRegex(@"(\bpassword[""']?[ \t]*[=:][ \t]*)([""'])(?!\*\*\*\2)[^""'\r\n]*\2", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex QuotedPasswordPattern();

    // password: …, Password=… unquoted (proxy credentials in scenario text and connection strings): to the end of the
    // value, which may hold spaces (a YAML plain scalar), up to ';', ',', '}', a comment or the end of the line.
    [GeneratedRegex(@"(\bpassword[""']?[ \t]*[=:](?>[ \t]*))(?!\*\*\*)(?![""'|>])[^;""'\r\n,}#]*[^;""'\s,}#]", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex PasswordPattern();

    // Basic credentials in a (Proxy-)Authorization header.
    [GeneratedRegex(@"(\bBasic\s+)[A-Za-z0-9+/]+=*", RegexOptions.CultureInvariant)] // case kept: "basic" is also a word in prose
    private static partial Regex BasicPattern();

    // sig=… inside any SAS token, wherever it appears.
    [GeneratedRegex(@"(\bsig\s*=\s*)[^&;""\s]+", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex SignaturePattern();
}
