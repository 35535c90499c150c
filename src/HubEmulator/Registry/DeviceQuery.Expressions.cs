using System.Text.Json.Nodes;

namespace FleetSim.HubEmulator.Registry;

/// <summary>The WHERE condition as a tree of nodes evaluated against one device's twin, and how its values compare.</summary>
public sealed partial class DeviceQuery
{
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
}
