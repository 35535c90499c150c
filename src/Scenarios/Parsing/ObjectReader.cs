using YamlDotNet.RepresentationModel;

namespace FleetSim.Scenarios.Parsing;

/// <summary>
/// Reads one YAML mapping against a schema object definition: on open it reports unknown keys (with a
/// did-you-mean hint), non-scalar keys and missing required keys; then typed getters read values, adding
/// positioned errors and returning null for absent or invalid values. Getters ask the schema, so reading a
/// key the schema lacks fails loudly in tests.
/// </summary>
internal sealed class ObjectReader
{
    private static readonly YamlMappingNode Empty = new();
    private readonly ParseContext ctx;
    private readonly Dictionary<string, (YamlNode Key, YamlNode Value)> entries = new(StringComparer.Ordinal);

    private ObjectReader(ParseContext ctx, YamlNode node, YamlMappingNode mapping, string definition)
    {
        this.ctx = ctx;
        Node = node;
        Mapping = mapping;
        Definition = definition;
    }

    public YamlNode Node { get; }

    public YamlMappingNode Mapping { get; }

    public string Definition { get; }

    /// <summary>Opens <paramref name="node"/> as a <paramref name="definition"/> object; null (error added) if it is not a mapping.</summary>
    public static ObjectReader? Open(ParseContext ctx, YamlNode node, string definition, string what)
    {
        var keys = ctx.Schema.Keys(definition);
        YamlMappingNode mapping;
        if (node is YamlMappingNode m)
        {
            mapping = m;
        }
        else if (ParseContext.IsNull(node))
        {
            mapping = Empty;
        }
        else
        {
            ctx.Error(node, $"{what}: expected a mapping, found {ParseContext.Describe(node)}", "keys: " + string.Join(", ", keys));
            return null;
        }
        var reader = new ObjectReader(ctx, node, mapping, definition);
        foreach (var (key, value) in mapping.Children)
        {
            if (key is not YamlScalarNode { Value: { } name })
            {
                ctx.Error(key, $"{what}: keys must be plain names, found {ParseContext.Describe(key)}");
                continue;
            }
            if (!ctx.Schema.HasKey(definition, name))
            {
                var suggestion = DidYouMean.Suggest(name, keys);
                ctx.Error(key, $"unknown key '{name}' in {what}",
                    suggestion is null ? "allowed: " + string.Join(", ", keys) : $"did you mean '{suggestion}'?");
                continue;
            }
            reader.entries[name] = (key, value);
        }
        foreach (var required in ctx.Schema.Required(definition))
        {
            if (!reader.entries.ContainsKey(required))
            {
                ctx.Error(node, $"{what}: missing required key '{required}'", ctx.Schema.Description(definition, required));
            }
        }
        return reader;
    }

    /// <summary>The value node of a key, or null when absent.</summary>
    public YamlNode? Get(string key)
    {
        ctx.Schema.Consult(Definition, key);
        return entries.TryGetValue(key, out var entry) ? entry.Value : null;
    }

    /// <summary>The key node itself (for errors about the key), or null.</summary>
    public YamlNode? KeyNode(string key) => entries.TryGetValue(key, out var entry) ? entry.Key : null;

    public bool Has(string key) => entries.ContainsKey(key);

    public int Count => entries.Count;

    public IEnumerable<string> PresentKeys => entries.Keys;

    public string? String(string key) => Get(key) is { } node ? ctx.Text(node, "a string") : null;

    public int? Int(string key, int min, int max = int.MaxValue) =>
        Get(key) is { } node ? (int?)ctx.Integer(node, min, max) : null;

    public double? Number(string key, double min, double max = double.MaxValue, bool exclusiveMin = false) =>
        Get(key) is { } node ? ctx.Number(node, min, max, exclusiveMin) : null;

    /// <summary>A rate: a number greater than 0.</summary>
    public double? Rate(string key) => Number(key, 0, 1_000_000_000, exclusiveMin: true);

    public double? Fraction(string key) => Number(key, 0, 1);

    public TimeSpan? Duration(string key, TimeSpan? min = null, TimeSpan? max = null) =>
        Get(key) is { } node ? ctx.Duration(node, min ?? TimeSpan.Zero, max ?? TimeSpan.FromDays(365)) : null;

    public bool? Bool(string key) => Get(key) is { } node ? ctx.Bool(node) : null;

    public string? Enum(string key, string enumDefinition) => Get(key) is { } node ? ctx.Enum(node, enumDefinition) : null;

    /// <summary>Exactly one of <paramref name="keys"/> present: its name, else null with an error.</summary>
    public string? ExactlyOne(string what, params string[] keys)
    {
        string? found = null;
        foreach (var key in keys)
        {
            if (Has(key))
            {
                if (found is not null)
                {
                    ctx.Error(KeyNode(key)!, $"{what}: '{found}' and '{key}' cannot be used together", "use exactly one of " + string.Join(", ", keys));
                    return null;
                }
                found = key;
            }
        }
        if (found is null && Count == Mapping.Children.Count)
        {
            ctx.Error(Node, $"{what}: expected one of {string.Join(", ", keys)}");
        }
        return found;
    }
}
