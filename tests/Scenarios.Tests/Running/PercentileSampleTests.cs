using FleetSim.Metrics;
using FleetSim.Reporting;
using FleetSim.Scenarios.Parsing;
using FleetSim.Scenarios.Running;

namespace FleetSim.Scenarios.Tests.Running;

/// <summary>
/// A percentile over too few samples is not a percentile (p99 of 25 calls is the slowest call): such a rule is reported as
/// not evaluated, neither passed nor failed (docs/scenarios.md, "Percentiles need enough samples").
/// </summary>
public sealed class PercentileSampleTests
{
    private static IReadOnlyList<Model.ThresholdRule> Rules(string rules)
    {
        var loaded = ScenarioLoader.LoadFromText($"name: t\ndevices: {{count: 1}}\nduration: 1s\nthresholds:\n  abortOnBreach: true\n  methodRoundTrip: {rules}\n", "t.yaml");
        Assert.True(loaded.Success, string.Join("\n", loaded.Errors));
        return loaded.Scenario!.Thresholds.Rules;
    }

    /// <summary><paramref name="calls"/> method calls of 10 ms and one of 900 ms.</summary>
    private static MetricsSnapshot Calls(int calls)
    {
        var metrics = new FleetMetrics();
        var op = metrics.Operation(Operations.MethodRoundTrip);
        for (var i = 1; i < calls; i++)
            op.RecordOk(TimeSpan.FromMilliseconds(10));
        op.RecordOk(TimeSpan.FromMilliseconds(900));
        return metrics.Snapshot();
    }

    [Fact]
    public void A_p99_over_25_calls_is_not_evaluated_and_says_how_many_samples_it_needed()
    {
        var outcome = Assert.Single(ThresholdEvaluator.Evaluate(Rules("[\"p99 < 300ms\"]"), Calls(25), null));

        Assert.False(outcome.Evaluated);
        Assert.False(outcome.Passed);
        Assert.False(outcome.Failed);
        Assert.Equal("not enough samples (25 < 100)", outcome.Note);
        Assert.True(outcome.Actual >= 890, $"the value measured is still reported: {outcome.Actual}"); // the slowest call
    }

    [Fact]
    public void The_same_p99_over_100_calls_is_evaluated_and_fails_on_the_slow_tail_only_when_it_is_the_tail()
    {
        var hundred = Assert.Single(ThresholdEvaluator.Evaluate(Rules("[\"p99 < 300ms\"]"), Calls(100), null));
        var twoSlow = new FleetMetrics();
        for (var i = 0; i < 98; i++)
            twoSlow.Operation(Operations.MethodRoundTrip).RecordOk(TimeSpan.FromMilliseconds(10));
        twoSlow.Operation(Operations.MethodRoundTrip).RecordOk(TimeSpan.FromMilliseconds(900));
        twoSlow.Operation(Operations.MethodRoundTrip).RecordOk(TimeSpan.FromMilliseconds(900));
        var failing = Assert.Single(ThresholdEvaluator.Evaluate(Rules("[\"p99 < 300ms\"]"), twoSlow.Snapshot(), null));

        Assert.True(hundred.Evaluated);
        Assert.True(hundred.Passed); // one slow call in 100 is the 1 % a p99 leaves out
        Assert.True(failing.Evaluated);
        Assert.True(failing.Failed);
    }

    [Theory]
    [InlineData("p50", 1, 2)]
    [InlineData("p75", 3, 4)]
    [InlineData("p90", 9, 10)]
    [InlineData("p95", 19, 20)]
    [InlineData("p99", 99, 100)]
    public void Each_percentile_needs_one_over_one_minus_its_fraction_samples(string metric, int tooFew, int enough)
    {
        var rules = Rules($"[\"{metric} < 5s\"]");

        var few = Assert.Single(ThresholdEvaluator.Evaluate(rules, Calls(tooFew), null));
        var many = Assert.Single(ThresholdEvaluator.Evaluate(rules, Calls(enough), null));

        Assert.Equal($"not enough samples ({tooFew} < {enough})", few.Note);
        Assert.False(few.Evaluated);
        Assert.True(many.Evaluated);
        Assert.True(many.Passed);
    }

    [Fact]
    public void Max_mean_and_error_rate_are_evaluated_on_any_sample_and_no_sample_at_all_still_fails()
    {
        var outcomes = ThresholdEvaluator.Evaluate(Rules("[\"max < 300ms\", \"mean < 1s\", \"errorRate < 1%\"]"), Calls(3), null);
        var none = Assert.Single(ThresholdEvaluator.Evaluate(Rules("[\"p99 < 300ms\"]"), new FleetMetrics().Snapshot(), null));

        Assert.Equal([(true, false), (true, true), (true, true)], outcomes.Select(o => (o.Evaluated, o.Passed)));
        Assert.True(none.Evaluated);
        Assert.True(none.Failed);
        Assert.Contains("no successful 'methodRoundTrip' operation", none.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void A_percentile_over_too_few_samples_so_far_is_no_breach_during_the_run()
    {
        var rules = Rules("[\"p99 < 300ms\", \"max < 300ms\"]");

        var breach = ThresholdEvaluator.FirstBreach(rules, Calls(25), null);

        Assert.Equal("max < 300ms", breach?.Rule.Text); // the max is already broken; the p99 may still come under its bound
    }

    [Fact]
    public void A_recovery_percentile_counts_the_devices_that_came_back()
    {
        var rule = Rules("[\"p99 < 300ms\"]")[0] with { Operation = Model.ThresholdSections.Recovery };
        RecoverySummary Recovered(int devices) => new(1, devices, devices, 1000, 2000, 2000, 0, [], 0);

        var twelve = Assert.Single(ThresholdEvaluator.Evaluate([rule], new FleetMetrics().Snapshot(), null, Recovered(12)));
        var hundred = Assert.Single(ThresholdEvaluator.Evaluate([rule], new FleetMetrics().Snapshot(), null, Recovered(100)));

        Assert.Equal("not enough samples (12 < 100)", twelve.Note);
        Assert.True(hundred.Failed);
    }
}
