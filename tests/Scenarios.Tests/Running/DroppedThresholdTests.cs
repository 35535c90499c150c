using FleetSim.Metrics;
using FleetSim.Scenarios.Parsing;
using FleetSim.Scenarios.Running;

namespace FleetSim.Scenarios.Tests.Running;

/// <summary>Messages the devices drop never get a sequence number, so only a 'dropped' rule can see them.</summary>
public sealed class DroppedThresholdTests
{
    [Fact]
    public void A_dropped_rule_fails_where_lost_cannot_see_the_dropped_messages()
    {
        var loaded = ScenarioLoader.LoadFromText("""
            name: drops
            devices: {count: 1}
            duration: 1s
            thresholds:
              abortOnBreach: true
              telemetry: ["lost == 0", "dropped == 0", "dropped <= 2"]
            """, "test.yaml");
        Assert.True(loaded.Success, string.Join("\n", loaded.Errors));
        var metrics = new FleetMetrics();
        metrics.Counter(Counters.TelemetryDropped).Add(3);

        var outcomes = ThresholdEvaluator.Evaluate(loaded.Scenario!.Thresholds.Rules, metrics.Snapshot(), new IngestTotals(10, 0, 0, 0));

        Assert.True(outcomes[0].Passed); // the hub saw no gap
        Assert.False(outcomes[1].Passed);
        Assert.Equal(3, outcomes[1].Actual);
        // During the run an upper bound already exceeded is a breach (abortOnBreach), as for lost and failed.
        Assert.Equal("dropped <= 2", ThresholdEvaluator.FirstBreach(loaded.Scenario.Thresholds.Rules, metrics.Snapshot(), null)?.Rule.Text);
    }

    [Fact]
    public void Dropped_is_a_telemetry_rule_only()
    {
        var loaded = ScenarioLoader.LoadFromText("""
            name: drops
            devices: {count: 1}
            duration: 1s
            thresholds:
              connect: ["dropped == 0"]
            """, "test.yaml");

        Assert.False(loaded.Success);
        Assert.Contains(loaded.Errors, e => e.ToString().Contains("'dropped' is counted for telemetry only", StringComparison.Ordinal));
    }
}
