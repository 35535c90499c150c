using System.Globalization;

namespace FleetSim.HubEmulator.Registry;

/// <summary>A recursive-descent parser over the tokens of one query.</summary>
public sealed partial class DeviceQuery
{
    private sealed partial class Parser(string sql)
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
    }
}
