using System.Text;

namespace FleetSim.HubEmulator.Registry;

/// <summary>Splits a query into tokens.</summary>
public sealed partial class DeviceQuery
{
    private sealed partial class Parser
    {
        /// <summary>Tokens: names, numbers, operators, punctuation; a string literal is one token starting with ' (quotes removed, '' unescaped).</summary>
        private static List<string> Tokenize(string text)
        {
            var tokens = new List<string>();
            var i = 0;
            while (i < text.Length)
            {
                var c = text[i];
                if (char.IsWhiteSpace(c))
                {
                    i++;
                }
                else if (c is '\'' or '"')
                {
                    var value = new StringBuilder("'");
                    i++;
                    while (true)
                    {
                        if (i >= text.Length)
                        {
                            throw new FormatException("a string literal is not closed");
                        }

                        if (text[i] == c)
                        {
                            if (i + 1 < text.Length && text[i + 1] == c)
                            {
                                value.Append(c);
                                i += 2;
                                continue;
                            }

                            i++;
                            break;
                        }

                        if (text[i] == '\\' && i + 1 < text.Length)
                        {
                            i++;
                        }

                        value.Append(text[i++]);
                    }

                    tokens.Add(value.ToString());
                }
                else if (char.IsAsciiLetter(c) || c is '_' or '$')
                {
                    var start = i;
                    while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '_' or '$' or '-'))
                    {
                        i++;
                    }

                    tokens.Add(text[start..i]);
                }
                else if (char.IsAsciiDigit(c) || (c == '-' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1])))
                {
                    var start = i++;
                    while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] is '.' or 'e' or 'E'))
                    {
                        i++;
                    }

                    tokens.Add(text[start..i]);
                }
                else if (i + 1 < text.Length && text.Substring(i, 2) is "<=" or ">=" or "!=" or "<>")
                {
                    tokens.Add(text.Substring(i, 2));
                    i += 2;
                }
                else if ("=<>()[],.*".Contains(c))
                {
                    tokens.Add(c.ToString());
                    i++;
                }
                else
                {
                    throw new FormatException($"unexpected character '{c}' at position {i + 1}");
                }
            }

            return tokens;
        }
    }
}
