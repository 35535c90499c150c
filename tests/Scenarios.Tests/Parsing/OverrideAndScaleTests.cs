using FleetSim.Scenarios.Model;

namespace FleetSim.Scenarios.Tests.Parsing;

public sealed class OverrideAndScaleTests
{
    private const string TwoGroups = """
        name: x
        deviceGroups:
          - {name: a, count: 100, telemetry: {interval: 1s}}
          - {name: b, count: 50}
        load:
          - ramp: {to: 150, over: 10s}
          - inject: {perSecond: 0.5, for: 1s}
          - rampDown: {to: 20, over: 5s}
        service:
          - invokeMethod: {name: m, ratePerSecond: 10}
        thresholds:
          connect: ["count >= 150", "p99 < 1s"]
          telemetry: ["throughput >= 100/s"]
        """;

    [Fact]
    public void Overrides_replace_values_by_dotted_path_before_validation()
    {
        var scenario = Loads.Ok(TwoGroups, "deviceGroups.1.count=75", "duration=10s", "deviceGroups.0.telemetry.interval=250ms", "name=renamed");
        Assert.Equal(75, scenario.DeviceGroups[1].Count);
        Assert.Equal(TimeSpan.FromSeconds(10), scenario.Duration);
        Assert.Equal(TimeSpan.FromMilliseconds(250), scenario.DeviceGroups[0].Telemetry!.Interval);
        Assert.Equal("renamed", scenario.Name);
    }

    [Fact]
    public void Overrides_create_missing_mappings_and_accept_yaml_values()
    {
        var scenario = Loads.Ok(TwoGroups, "hub.embedded.quotas.connectsPerSecond=5", "deviceGroups.1.telemetry={ratePerSecond: 4}");
        Assert.Equal(5, ((EmbeddedHub)scenario.Hub).Options.Quotas.ConnectsPerSecond);
        Assert.Equal(TimeSpan.FromMilliseconds(250), scenario.DeviceGroups[1].Telemetry!.Interval);
    }

    [Fact]
    public void Overrides_work_on_an_empty_file()
    {
        var scenario = Loads.Ok("", "name=cli", "devices.count=3", "duration=2s");
        Assert.Equal(3, scenario.TotalDevices);
    }

    [Theory]
    [InlineData("deviceGroups.5.count=1", "not an index")]
    [InlineData("deviceGroups.x.count=1", "not an index")]
    [InlineData("name.first=1", "not a mapping or list")]
    [InlineData("count", "not path=value")]
    [InlineData("deviceGroups..count=1", "empty part")]
    public void Bad_override_paths_are_errors_naming_the_override(string set, string expected)
    {
        var error = Loads.One(TwoGroups, set);
        Assert.StartsWith("--set ", error.File, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_override_values_are_positioned_in_the_override()
    {
        var error = Loads.One(TwoGroups, "deviceGroups.0.count=lots");
        Assert.Equal(("--set deviceGroups.0.count", 1, 22), (error.File, error.Line, error.Column));
        Assert.Contains("expected a whole number", error.Message, StringComparison.Ordinal);
        var unknown = Loads.One(TwoGroups, "deviceGroups.0.cuont=5");
        Assert.Equal("--set deviceGroups.0.cuont", unknown.File);
        Assert.Equal("did you mean 'count'?", unknown.Hint);
    }

    [Fact]
    public void Scale_multiplies_counts_and_rates_but_not_per_device_rates_or_latency_rules()
    {
        var scenario = Loads.Ok(TwoGroups).Scale(0.1);
        Assert.Equal([10, 5], scenario.DeviceGroups.Select(g => g.Count));
        Assert.Equal(15, ((RampPhase)scenario.Load[0]).To);
        Assert.Equal(0.05, ((InjectPhase)scenario.Load[1]).PerSecond, 9);
        Assert.Equal(2, ((RampDownPhase)scenario.Load[2]).To);
        Assert.Equal(1.0, scenario.Service[0].RatePerSecond, 9);
        Assert.Equal(TimeSpan.FromSeconds(1), scenario.DeviceGroups[0].Telemetry!.Interval);
        var rules = scenario.Thresholds.Rules;
        Assert.Equal(15, rules.Single(r => r.Metric == ThresholdMetric.Count).Value);
        Assert.Equal(1000, rules.Single(r => r.Metric == ThresholdMetric.P99).Value);
        Assert.Equal(10, rules.Single(r => r.Metric == ThresholdMetric.Throughput).Value, 9);
    }

    [Fact]
    public void Scale_never_leaves_a_group_without_devices_nor_a_ramp_beyond_the_fleet()
    {
        var scenario = Loads.Ok(TwoGroups).Scale(0.001);
        Assert.Equal([1, 1], scenario.DeviceGroups.Select(g => g.Count));
        Assert.Equal(2, scenario.TotalDevices);
        Assert.InRange(((RampPhase)scenario.Load[0]).To, 1, 2);
        Assert.InRange(((RampDownPhase)scenario.Load[2]).To, 0, 2);
    }

    [Fact]
    public void Scale_multiplies_the_embedded_hubs_quotas_with_the_fleet()
    {
        var scenario = Loads.Ok("name: q\nhub: {embedded: {quotas: {connectsPerSecond: 100, telemetryPerSecond: 5000}}}\ndevices: {count: 100}\nduration: 1s\n").Scale(0.1);

        var quotas = Assert.IsType<EmbeddedHub>(scenario.Hub).Options.Quotas;
        Assert.Equal(10, quotas.ConnectsPerSecond!.Value, 9);
        Assert.Equal(500, quotas.TelemetryPerSecond!.Value, 9);
        Assert.Null(quotas.TwinOperationsPerSecond); // unlimited stays unlimited
    }

    [Fact]
    public void Scale_up_multiplies()
    {
        var scenario = Loads.Ok(TwoGroups).Scale(2);
        Assert.Equal(300, scenario.TotalDevices);
        Assert.Equal(300, ((RampPhase)scenario.Load[0]).To);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(double.NaN)]
    public void Scale_rejects_non_positive_factors(double factor) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Loads.Ok(TwoGroups).Scale(factor));
}
