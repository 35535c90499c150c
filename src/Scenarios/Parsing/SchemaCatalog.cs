using System.Collections.Concurrent;
using System.Text.Json;

namespace FleetSim.Scenarios.Parsing;

/// <summary>
/// The scenario language's vocabulary read from scenarios/fleetsim.schema.json (embedded): the keys each
/// object accepts, which are required, their descriptions (used in hints), and the enum values. The parser
/// asks this catalog instead of keeping its own lists, so the schema editors see and the validator cannot
/// drift apart. The catalog also records which keys the parser consulted, so a test can prove the parser
/// reads every key the schema offers.
/// </summary>
public sealed class SchemaCatalog
{
    /// <summary>Name of the top-level object (the schema's root properties).</summary>
    public const string Root = "root";

    private static readonly Lazy<SchemaCatalog> DefaultCatalog = new(() => FromJson(ReadEmbedded()));

    private readonly Dictionary<string, ObjectDefinition> objects;
    private readonly Dictionary<string, string[]> enums;
    private readonly ConcurrentDictionary<string, bool> consulted = new();

    private SchemaCatalog(Dictionary<string, ObjectDefinition> objects, Dictionary<string, string[]> enums)
    {
        this.objects = objects;
        this.enums = enums;
    }

    public static SchemaCatalog Default => DefaultCatalog.Value;

    /// <summary>Names of every object definition with properties (including <see cref="Root"/>).</summary>
    public IEnumerable<string> ObjectNames => objects.Keys;

    /// <summary>"definition.key" pairs the parser has asked for through this instance.</summary>
    public IReadOnlyCollection<string> ConsultedKeys => (IReadOnlyCollection<string>)consulted.Keys;

    public static string ReadEmbedded()
    {
        using var stream = typeof(SchemaCatalog).Assembly.GetManifestResourceStream("FleetSim.Scenarios.fleetsim.schema.json")
            ?? throw new InvalidOperationException("The embedded scenario schema is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static SchemaCatalog FromJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var objects = new Dictionary<string, ObjectDefinition>(StringComparer.Ordinal)
        {
            [Root] = ObjectDefinition.From(root),
        };
        var enums = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var definition in root.GetProperty("$defs").EnumerateObject())
        {
            if (definition.Value.TryGetProperty("properties", out _))
            {
                objects[definition.Name] = ObjectDefinition.From(definition.Value);
            }
            if (definition.Value.TryGetProperty("enum", out var values))
            {
                enums[definition.Name] = [.. values.EnumerateArray().Select(v => v.GetString() ?? "")];
            }
        }
        return new SchemaCatalog(objects, enums);
    }

    public IReadOnlyList<string> Keys(string definition) => Object(definition).Keys;

    public IReadOnlyList<string> Required(string definition) => Object(definition).Required;

    public bool HasKey(string definition, string key) => Object(definition).Descriptions.ContainsKey(key);

    public string? Description(string definition, string key) =>
        Object(definition).Descriptions.TryGetValue(key, out var description) ? description : null;

    public IReadOnlyList<string> EnumValues(string definition) =>
        enums.TryGetValue(definition, out var values)
            ? values
            : throw new InvalidOperationException($"The scenario schema has no enum '{definition}'.");

    /// <summary>Records that the parser reads <paramref name="key"/>; a key the schema lacks is a programming error.</summary>
    internal void Consult(string definition, string key)
    {
        if (!HasKey(definition, key))
        {
            throw new InvalidOperationException($"The parser reads '{definition}.{key}', which the scenario schema does not define.");
        }
        consulted.TryAdd(definition + "." + key, true);
    }

    private ObjectDefinition Object(string definition) =>
        objects.TryGetValue(definition, out var value)
            ? value
            : throw new InvalidOperationException($"The scenario schema has no object definition '{definition}'.");

    private sealed record ObjectDefinition(string[] Keys, string[] Required, Dictionary<string, string> Descriptions)
    {
        public static ObjectDefinition From(JsonElement element)
        {
            var descriptions = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in element.GetProperty("properties").EnumerateObject())
            {
                descriptions[property.Name] = property.Value.TryGetProperty("description", out var d) ? d.GetString() ?? "" : "";
            }
            string[] required = element.TryGetProperty("required", out var r) ? [.. r.EnumerateArray().Select(v => v.GetString() ?? "")] : [];
            return new ObjectDefinition([.. descriptions.Keys], required, descriptions);
        }
    }
}
