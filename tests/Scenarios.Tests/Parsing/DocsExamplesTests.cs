using System.Text.RegularExpressions;
using FleetSim.Scenarios.Parsing;

namespace FleetSim.Scenarios.Tests.Parsing;

/// <summary>The examples in docs/scenarios.md are real: complete scenarios load, and the --set lines apply.</summary>
public sealed partial class DocsExamplesTests
{
    private static string Docs => File.ReadAllText(Path.Combine(Loads.ScenariosFolder, "..", "docs", "scenarios.md"));

    [Fact]
    public void Complete_yaml_examples_in_the_docs_load()
    {
        var blocks = YamlBlock().Matches(Docs).Select(m => m.Groups[1].Value).Where(b => b.StartsWith("name:", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(blocks);
        foreach (var block in blocks)
        {
            var result = ScenarioLoader.LoadFromText(block, "docs.yaml");
            Assert.True(result.Success, block + "\n" + string.Join("\n", result.Errors));
        }
    }

    [Fact]
    public void Fragments_in_the_docs_load_inside_a_scenario()
    {
        var blocks = YamlBlock().Matches(Docs).Select(m => m.Groups[1].Value)
            .Where(b => b.StartsWith("load:", StringComparison.Ordinal) || b.StartsWith("thresholds:", StringComparison.Ordinal) || b.StartsWith("hub:", StringComparison.Ordinal))
            .ToList();
        Assert.True(blocks.Count >= 4);
        foreach (var block in blocks)
        {
            var yaml = "name: docs\ndeviceGroups:\n  - {name: displays, count: 2000}\nduration: 10m\n" + block.Replace("${IOTHUB_CONNECTION_STRING}",
                "\"HostName=h;SharedAccessKeyName=o;SharedAccessKey=a2V5\"", StringComparison.Ordinal);
            var result = ScenarioLoader.LoadFromText(yaml, "docs.yaml");
            Assert.True(result.Success, yaml + "\n" + string.Join("\n", result.Errors));
        }
    }

    [Fact]
    public void Set_examples_in_the_docs_apply_to_a_two_group_scenario()
    {
        var sets = SetLine().Matches(Docs).Select(m => m.Groups[1].Value).ToList();
        Assert.True(sets.Count >= 4);
        var yaml = "name: docs\ndeviceGroups:\n  - {name: a, count: 10}\n  - {name: b, count: 10}\nduration: 1m\n";
        var result = ScenarioLoader.LoadFromText(yaml, "docs.yaml", sets);
        Assert.True(result.Success, string.Join("\n", result.Errors));

        // Each line changes what the scenario runs (applying is not enough: a line that set nothing would pass above).
        var plain = FleetSim.Scenarios.Running.EffectiveScenario.Describe(ScenarioLoader.LoadFromText(yaml, "docs.yaml").Scenario!);
        foreach (var set in sets)
        {
            var one = ScenarioLoader.LoadFromText(yaml, "docs.yaml", [set]);
            Assert.True(one.Success, set + ": " + string.Join("\n", one.Errors));
            Assert.NotEqual(plain, FleetSim.Scenarios.Running.EffectiveScenario.Describe(one.Scenario!));
        }
    }

    [GeneratedRegex("```yaml\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex YamlBlock();

    [GeneratedRegex("^--set ([A-Za-z0-9_.]+=.*)$", RegexOptions.Multiline)]
    private static partial Regex SetLine();
}
