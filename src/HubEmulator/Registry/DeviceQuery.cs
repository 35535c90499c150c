using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace FleetSim.HubEmulator.Registry;

/// <summary>
/// The subset of IoT Hub's query language the service SDKs send to <c>POST /devices/query</c>:
/// <c>SELECT * | COUNT() [AS name] | path[, path...] FROM devices [WHERE condition]</c>, where a condition combines
/// comparisons (<c>= != &lt;&gt; &lt; &gt; &lt;= &gt;=</c>) of twin paths (<c>deviceId</c>, <c>status</c>,
/// <c>connectionState</c>, <c>tags.a.b</c>, <c>properties.desired.x</c>, <c>properties.reported.x</c>…) with string
/// ('…'), number, true/false and null literals, <c>path IN ['a', 'b']</c>, <c>IS_DEFINED(path)</c>,
/// <c>STARTSWITH(path, 'x')</c>, <c>ENDSWITH(path, 'x')</c>, <c>AND</c>, <c>OR</c>, <c>NOT</c> and parentheses. Anything
/// else (GROUP BY, devices.modules, devices.jobs) is refused with a message saying what the emulator supports.
/// </summary>
public sealed class DeviceQuery
{
    private readonly Node? _where;

    private DeviceQuery(bool count, string? countAlias, IReadOnlyList<string[]>? projection, Node? where)
    {
        IsCount = count;
        CountAlias = countAlias ?? "$1";
        Projection = projection;
        _where = where;
    }

    /// <summary>SELECT COUNT(): one row with the number of matching devices.</summary>
    public bool IsCount { get; }

    public string CountAlias { get; }

    /// <summary>The selected paths; null for <c>SELECT *</c> (whole twins).</summary>
    public IReadOnlyList<string[]>? Projection { get; }

    /// <summary>Parses the query, or throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static DeviceQuery Parse(string sql) => new Parser(sql).Query();

    /// <summary>True when the device matches the WHERE condition; <paramref name="resolve"/> reads a path of its twin (null: undefined).</summary>
    public bool Matches(Func<string[], JsonNode?> resolve) => _where is null || Truthy(_where.Evaluate(resolve));

    private static bool Truthy(object? value) => value is true;

    // ---- expression tree ----
    private abstract record Node
    {
        public abstract object? Evaluate(Func<string[], JsonNode?> resolve);
    }

    private sealed record PathNode(string[] Path) : Node
    {
        public override object? Evaluate(Func<string[], JsonNode?> resolve) => Scalar(resolve(Path));
    }

    private sealed record Literal(object? Value) : Node
    {
        public override object? Evaluate(Func<string[], JsonNode?> resolve) => Value;
    }

    private sealed record Logical(string Op, Node Left, Node Right) : Node
    {
        public override object? Evaluate(Func<string[], JsonNode?> resolve) =>
            Op == "AND"
                ? Truthy(Left.Evaluate(resolve)) && Truthy(Right.Evaluate(resolve))
                : Truthy(Left.Evaluate(resolve)) || Truthy(Right.Evaluate(resolve));
    }

    private sealed record Not(Node Inner) : Node
    {
        public override object? Evaluate(Func<string[], JsonNode?> resolve) => !Truthy(Inner.Evaluate(resolve));
    }

    private sealed record Compare(string Op, Node Left, Node Right) : Node
    {
        public override object? Evaluate(Func<string[], JsonNode?> resolve)
        {
            var (a, b) = (Left.Evaluate(resolve), Right.Evaluate(resolve));
            if (a is Undefined || b is Undefined)
            {
                return false;
            }

            var order = CompareValues(a, b);
            return Op switch
            {
                "=" => order == 0,
                "!=" or "<>" => order != 0,
                "<" => order is < 0 and not int.MinValue,
                ">" => order is > 0 and not int.MaxValue,
                "<=" => order is <= 0 and not int.MinValue,
                _ => order is >= 0 and not int.MaxValue,
            };
        }
    }

    private sealed record In(Node Value, IReadOnlyList<Node> List) : Node
    {
        public override object? Evaluate(Func<string[], JsonNode?> resolve)
        {
            var value = Value.Evaluate(resolve);
            return value is not Undefined && List.Any(item => CompareValues(value, item.Evaluate(resolve)) == 0);
        }
    }

    private sealed record Function(string Name, IReadOnlyList<Node> Args) : Node
    {
        public override object? Evaluate(Func<string[], JsonNode?> resolve)
        {
            var first = Args[0].Evaluate(resolve);
            return Name switch
            {
                "IS_DEFINED" => first is not Undefined,
                "IS_NULL" => first is null,
                "STARTSWITH" => first is string s && Args[1].Evaluate(resolve) is string p && s.StartsWith(p, StringComparison.Ordinal),
                _ => first is string e && Args[1].Evaluate(resolve) is string q && e.EndsWith(q, StringComparison.Ordinal),
            };
        }
    }

    /// <summary>An undefined path (distinct from JSON null).</summary>
    private sealed class Undefined
    {
        public static readonly Undefined Value = new();
    }

    private static object? Scalar(JsonNode? node) => node switch
    {
        null => Undefined.Value,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        JsonValue v => v.ToJsonString(),
        _ => node.ToJsonString(),
    };

    /// <summary>0 equal, negative/positive ordered; int.MinValue/int.MaxValue when the types cannot be ordered (only != holds).</summary>
    private static int CompareValues(object? a, object? b) => (a, b) switch
    {
        (null, null) => 0,
        (string x, string y) => Math.Sign(string.CompareOrdinal(x, y)),
        (double x, double y) => x.CompareTo(y),
        (bool x, bool y) => x == y ? 0 : x ? 1 : -1,
        _ => int.MaxValue,
    };

    // ---- parser ----
    private sealed class Parser(string sql)
    {
        private static readonly HashSet<string> Functions = ["IS_DEFINED", "IS_NULL", "STARTSWITH", "ENDSWITH"];
        private readonly List<string> _tokens = Tokenize(sql);
        private int _at;

        public DeviceQuery Query()
        {
            Expect("SELECT");
            var count = false;
            string? alias = null;
            List<string[]>? projection = null;
            if (TryTake("*"))
            {
            }
            else if (Peek()?.ToUpperInvariant() == "COUNT")
            {
                _at++;
                Expect("(");
                Expect(")");
                count = true;
                if (TryTakeKeyword("AS"))
                {
                    alias = Identifier();
                }
            }
            else
            {
                projection = [];
                do
                {
                    projection.Add(Path(Identifier()));
                }
                while (TryTake(","));
            }

            Expect("FROM");
            var from = Identifier();
            if (from != "devices")
            {
                throw new FormatException($"FROM {from}: the emulator queries devices only (not devices.modules or devices.jobs)");
            }

            Node? where = null;
            if (TryTakeKeyword("WHERE"))
            {
                where = Or();
            }

            if (Peek() is { } extra)
            {
                throw new FormatException($"unexpected '{extra}': the emulator supports SELECT … FROM devices [WHERE …] (no GROUP BY or ORDER BY)");
            }

            return new DeviceQuery(count, alias, projection, where);
        }

        private Node Or()
        {
            var left = And();
            while (TryTakeKeyword("OR"))
            {
                left = new Logical("OR", left, And());
            }

            return left;
        }

        private Node And()
        {
            var left = Unary();
            while (TryTakeKeyword("AND"))
            {
                left = new Logical("AND", left, Unary());
            }

            return left;
        }

        private Node Unary()
        {
            if (TryTakeKeyword("NOT"))
            {
                return new Not(Unary());
            }

            if (TryTake("("))
            {
                var inner = Or();
                Expect(")");
                return inner;
            }

            if (Peek() is { } name && Functions.Contains(name.ToUpperInvariant()) && PeekAt(1) == "(")
            {
                _at += 2;
                var args = new List<Node> { Operand() };
                while (TryTake(","))
                {
                    args.Add(Operand());
                }

                Expect(")");
                var upper = name.ToUpperInvariant();
                if (args.Count != (upper is "IS_DEFINED" or "IS_NULL" ? 1 : 2))
                {
                    throw new FormatException($"{upper} takes {(upper is "IS_DEFINED" or "IS_NULL" ? "one argument" : "two arguments")}");
                }

                return new Function(upper, args);
            }

            var left = Operand();
            if (TryTakeKeyword("IN"))
            {
                var close = TryTake("[") ? "]" : TryTake("(") ? ")" : throw new FormatException("IN expects a list such as ['a', 'b']");
                var list = new List<Node>();
                if (!TryTake(close))
                {
                    do
                    {
                        list.Add(Operand());
                    }
                    while (TryTake(","));
                    Expect(close);
                }

                return new In(left, list);
            }

            var op = Next() ?? throw new FormatException("the condition ends early: expected a comparison such as = 'value'");
            if (op is not ("=" or "!=" or "<>" or "<" or ">" or "<=" or ">="))
            {
                throw new FormatException($"unexpected '{op}': expected =, !=, <>, <, >, <=, >= or IN");
            }

            return new Compare(op, left, Operand());
        }

        private Node Operand()
        {
            var token = Next() ?? throw new FormatException("the query ends early: expected a value or a property path");
            if (token.StartsWith('\''))
            {
                return new Literal(token[1..]);
            }

            if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                return new Literal(number);
            }

            return token.ToUpperInvariant() switch
            {
                "TRUE" => new Literal(true),
                "FALSE" => new Literal(false),
                "NULL" => new Literal(null),
                _ => IsIdentifier(token) ? new PathNode(Path(token)) : throw new FormatException($"unexpected '{token}': expected a value or a property path"),
            };
        }

        private string[] Path(string first)
        {
            var path = new List<string> { first };
            while (TryTake("."))
            {
                path.Add(Identifier());
            }

            return [.. path];
        }

        private string Identifier()
        {
            var token = Next() ?? throw new FormatException("the query ends early: expected a name");
            return IsIdentifier(token) ? token : throw new FormatException($"unexpected '{token}': expected a name");
        }

        private static bool IsIdentifier(string token) => token.Length > 0 && (char.IsAsciiLetter(token[0]) || token[0] is '_' or '$');

        private string? Peek() => PeekAt(0);

        private string? PeekAt(int offset) => _at + offset < _tokens.Count ? _tokens[_at + offset] : null;

        private string? Next() => _at < _tokens.Count ? _tokens[_at++] : null;

        private bool TryTake(string token)
        {
            if (Peek() != token)
            {
                return false;
            }

            _at++;
            return true;
        }

        private bool TryTakeKeyword(string keyword)
        {
            if (!string.Equals(Peek(), keyword, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            _at++;
            return true;
        }

        private void Expect(string token)
        {
            if (!(token.All(char.IsAsciiLetter) ? TryTakeKeyword(token) : TryTake(token)))
            {
                throw new FormatException($"expected '{token}'{(Peek() is { } found ? $", found '{found}'" : " at the end")}");
            }
        }

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
