using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Parsing;

namespace FleetSim.Scenarios.Tests.Parsing;

public sealed class ShippedScenarioTests
{
    public static TheoryData<string> ShippedFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Loads.ScenariosFolder, "*.yaml").OrderBy(f => f, StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }
        return data;
    }

    [Fact]
    public void Every_scenario_the_issues_ask_for_is_shipped()
    {
        var names = Directory.GetFiles(Loads.ScenariosFolder, "*.yaml").Select(Path.GetFileNameWithoutExtension).ToHashSet();
        foreach (var expected in new[] { "quickstart", "telemetry-throughput", "twin-sync", "methods-load", "c2d", "mixed-fleet", "device-features", "cluster", "reconnect-soak", "sas-renewal-soak", "hub-outage" })
        {
            Assert.Contains(expected, names);
        }
    }

    [Theory]
    [MemberData(nameof(ShippedFiles))]
    public void Shipped_scenario_parses_and_points_editors_at_the_schema(string file)
    {
        var path = Path.Combine(Loads.ScenariosFolder, file);
        var result = ScenarioLoader.Load(path);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        Assert.StartsWith("# yaml-language-server: $schema=./fleetsim.schema.json", File.ReadAllText(path), StringComparison.Ordinal);
        Assert.Equal(Path.GetFileNameWithoutExtension(file), result.Scenario!.Name);
    }

    [Theory]
    [MemberData(nameof(ShippedFiles))]
    public void Shipped_scenario_scaled_small_stays_valid(string file)
    {
        var scenario = ScenarioLoader.Load(Path.Combine(Loads.ScenariosFolder, file)).GetOrThrow().Scale(0.01);
        Assert.All(scenario.DeviceGroups, g => Assert.True(g.Count >= 1));
        foreach (var phase in scenario.Load)
        {
            if (phase is RampPhase ramp)
            {
                Assert.InRange(ramp.To, 0, scenario.TotalDevices);
            }
        }
    }

    [Fact]
    public void Quickstart_is_the_issue_2_walking_skeleton()
    {
        var scenario = ScenarioLoader.Load(Path.Combine(Loads.ScenariosFolder, "quickstart.yaml")).GetOrThrow();
        var group = Assert.Single(scenario.DeviceGroups);
        Assert.Equal(100, group.Count);
        Assert.Equal(TimeSpan.FromSeconds(1), group.Telemetry!.Interval);
        Assert.Equal(TimeSpan.FromSeconds(30), scenario.Duration);
        var ramp = Assert.IsType<RampPhase>(scenario.Load[0]);
        Assert.Equal(100, ramp.To);
        Assert.Equal(TimeSpan.FromSeconds(5), ramp.Over); // 100 devices at 20 connects/s
        Assert.Equal(TimeSpan.FromSeconds(25), Assert.IsType<HoldPhase>(scenario.Load[1]).For);
        Assert.IsType<EmbeddedHub>(scenario.Hub);
    }

    [Fact]
    public void Device_features_has_a_threshold_on_every_operation_and_every_service_action()
    {
        var scenario = ScenarioLoader.Load(Path.Combine(Loads.ScenariosFolder, "device-features.yaml")).GetOrThrow();
        var operations = scenario.Thresholds.Rules.Select(r => r.Operation).ToHashSet();
        foreach (var op in new[] { "connect", "telemetry", "twinGet", "reportedPatch", "desiredDelivery", "methodRoundTrip", "c2dDelivery", "reconnect", "sasRenewal", "fileUpload" })
        {
            Assert.Contains(op, operations);
        }
        Assert.Contains(scenario.Service, a => a is InvokeMethodAction);
        Assert.Contains(scenario.Service, a => a is PatchDesiredAction);
        Assert.Contains(scenario.Service, a => a is SendC2dAction);
        var full = scenario.Group("full")!;
        Assert.NotNull(full.Telemetry);
        Assert.NotNull(full.Reported);
        Assert.NotNull(full.Desired);
        Assert.NotNull(full.C2d);
        Assert.NotNull(full.FileUpload);
        Assert.Contains("ping", full.Methods.Keys);
        Assert.True(full.SasTtl < scenario.Duration, "SAS tokens must expire during the run so renewal happens");
        Assert.Contains(((EmbeddedHub)scenario.Hub).Options.Faults, f => f is DropConnectionsFault);
    }
}
