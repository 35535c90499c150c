using FleetSim.Metrics;
using FleetSim.Reporting;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Running;

namespace FleetSim.Scenarios.Tests.Running;

/// <summary>Thresholds on recovery after faults and on the end-of-run twin convergence (issue 12, item 5).</summary>
public sealed class RecoveryThresholdTests
{
    private static readonly MetricsSnapshot Nothing = new FleetMetrics().Snapshot();

    private static ThresholdRule Rule(string section, ThresholdMetric metric, Comparison comparison, double value) =>
        new(section, metric, comparison, value, $"{metric} {comparison} {value}");

    // 200 devices: enough recovery times for a p99 to be evaluated (100 at least).
    private static RecoverySummary Recovery(double? p99, int never) => new(1, 200, 200 - never, 1000, p99, p99, never, [], 0);

    [Fact]
    public void Recovery_rules_check_the_recovery_over_all_faults()
    {
        ThresholdRule[] rules =
        [
            Rule("recovery", ThresholdMetric.P99, Comparison.Less, 30_000),
            Rule("recovery", ThresholdMetric.NeverReconnected, Comparison.Equal, 0),
        ];

        var good = ThresholdEvaluator.Evaluate(rules, Nothing, null, Recovery(p99: 12_000, never: 0));
        var bad = ThresholdEvaluator.Evaluate(rules, Nothing, null, Recovery(p99: 45_000, never: 2));

        Assert.All(good, o => Assert.True(o.Passed));
        Assert.Equal([(45_000.0, false), (2.0, false)], bad.Select(o => (o.Actual!.Value, o.Passed)));
    }

    [Fact]
    public void Recovery_rules_fail_with_a_reason_when_no_fault_ran_or_no_device_came_back()
    {
        var p99 = Rule("recovery", ThresholdMetric.P99, Comparison.Less, 30_000);

        var noFault = Assert.Single(ThresholdEvaluator.Evaluate([p99], Nothing, null, recovery: null));
        var nobodyBack = Assert.Single(ThresholdEvaluator.Evaluate([p99], Nothing, null, Recovery(p99: null, never: 10)));

        Assert.False(noFault.Passed);
        Assert.Contains("no fault", noFault.Note, StringComparison.Ordinal);
        Assert.False(nobodyBack.Passed);
        Assert.Contains("no device reconnected", nobodyBack.Note, StringComparison.Ordinal);
        Assert.Null(ThresholdEvaluator.FirstBreach([p99], Nothing, null)); // known only at the end: never a breach during the run
    }

    [Fact]
    public void Convergence_rules_count_diverged_and_unchecked_devices()
    {
        var convergence = new ConvergenceSection(Checked: 9, Unchecked: 1, ReportedDiverged: 1, DesiredBehind: 1, Diverged: 2, [], ["d9"]);
        ThresholdRule[] rules =
        [
            Rule("convergence", ThresholdMetric.TwinDiverged, Comparison.Equal, 0),
            Rule("convergence", ThresholdMetric.TwinUnchecked, Comparison.LessOrEqual, 1),
        ];

        var outcomes = ThresholdEvaluator.Evaluate(rules, Nothing, null, null, convergence);
        var none = Assert.Single(ThresholdEvaluator.Evaluate([rules[0]], Nothing, null, null, convergence: null));

        Assert.Equal([(2.0, false), (1.0, true)], outcomes.Select(o => (o.Actual!.Value, o.Passed)));
        Assert.False(none.Passed);
        Assert.Contains("twin behaviour", none.Note, StringComparison.Ordinal);
    }
}
