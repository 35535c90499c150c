using System.Globalization;
using System.Text.Json.Nodes;
using FleetSim.Scenarios.Parsing;
using NJsonSchema;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FleetSim.Scenarios.Tests.Parsing;

/// <summary>
/// Editors judge scenarios by the JSON Schema alone. These tests run a real JSON Schema validator over
/// scenarios, so what the editor accepts and what FleetSim accepts are shown to agree on real files.
/// </summary>
public sealed class SchemaValidationTests
{
    // NJsonSchema resolves draft-7 "definitions" but not 2020-12 "$defs"; the keywords used are otherwise the same.
    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromJsonAsync(
        File.ReadAllText(Path.Combine(Loads.ScenariosFolder, "fleetsim.schema.json")).Replace("$defs", "definitions", StringComparison.Ordinal)).GetAwaiter().GetResult());

    public static TheoryData<string> Valid()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Loads.ScenariosFolder, "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(File.ReadAllText(file));
        }
        data.Add(SchemaAgreementTests.KitchenSink);
        data.Add(SchemaAgreementTests.ShortFormSink);
        return data;
    }

    [Theory]
    [MemberData(nameof(Valid))]
    public void Scenarios_the_parser_accepts_pass_the_schema(string yaml)
    {
        Assert.True(ScenarioLoader.LoadFromText(yaml, "s.yaml").Success);
        var errors = Schema.Value.Validate(ToJson(yaml));
        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.Path}: {e.Kind}")));
    }

    [Fact]
    public void A_scenario_naming_files_passes_the_parser_and_the_schema()
    {
        var dir = Directory.CreateTempSubdirectory("fleetsim-schema-").FullName;
        try
        {
            SchemaAgreementTests.WriteConnectionFiles(dir);
            var result = ScenarioLoader.LoadFromText(SchemaAgreementTests.ConnectionSink, Path.Combine(dir, "s.yaml"));
            Assert.True(result.Success, string.Join("\n", result.Errors));
            var errors = Schema.Value.Validate(ToJson(SchemaAgreementTests.ConnectionSink));
            Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.Path}: {e.Kind}")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("colour: blue")]
    [InlineData("deviceGroups:\n  - {name: a, count: 1, transport: mqtts}")]
    [InlineData("deviceGroups:\n  - {name: a, count: 0}")]
    [InlineData("deviceGroups:\n  - {name: a, count: 1, keepAlive: 30}")]
    [InlineData("deviceGroups:\n  - {name: a, count: 1, telemetry: {intervall: 1s}}")]
    [InlineData("deviceGroups:\n  - {name: a, count: 1, credential: password}")]
    [InlineData("deviceGroups:\n  - {name: a}")]
    [InlineData("deviceGroups:\n  - {name: a, count: 1}\nload:\n  - ramp: {to: 1}")]
    [InlineData("deviceGroups:\n  - {name: a, count: 1}\nservice:\n  - invokeMethod: {name: m, ratePerSecond: 1, target: everyone}")]
    [InlineData("deviceGroups:\n  - {name: a, count: 1}\nthresholds:\n  conect: [\"p99 < 1s\"]")]
    public void Mistakes_the_parser_refuses_are_flagged_by_the_schema_too(string body)
    {
        var yaml = "name: x\nduration: 1s\n" + body + "\n";
        Assert.False(ScenarioLoader.LoadFromText(yaml, "s.yaml").Success);
        Assert.NotEmpty(Schema.Value.Validate(ToJson(yaml)));
    }

    /// <summary>YAML to JSON with YAML 1.2 core typing of plain scalars (as the editor's YAML language server does).</summary>
    private static string ToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return Convert(stream.Documents[0].RootNode)?.ToJsonString() ?? "null";
    }

    private static JsonNode? Convert(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                var obj = new JsonObject();
                foreach (var (key, value) in mapping.Children)
                {
                    obj[((YamlScalarNode)key).Value!] = Convert(value);
                }
                return obj;
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (var item in sequence.Children)
                {
                    array.Add(Convert(item));
                }
                return array;
            case YamlScalarNode { Style: ScalarStyle.Plain } plain:
                var text = plain.Value ?? "";
                if (text is "" or "~" or "null")
                {
                    return null;
                }
                if (text is "true" or "false")
                {
                    return JsonValue.Create(text == "true");
                }
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
                {
                    return JsonValue.Create(integer);
                }
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
                {
                    return JsonValue.Create(number);
                }
                return JsonValue.Create(text);
            default:
                return JsonValue.Create(((YamlScalarNode)node).Value);
        }
    }
}
