using FleetSim.Metrics;
using FleetSim.Reporting;
using FleetSim.Scenarios.Running;
using FleetSim.Simulator.Run;

namespace FleetSim.Simulator.Tests;

public class GeneratorWarningTests
{
    [Fact]
    public void A_saturated_or_late_generator_is_reported_as_a_warning()
    {
        var metrics = new FleetMetrics();
        Assert.Empty(RunSession.GeneratorWarnings(metrics.Snapshot()));

        metrics.Counter(ScenarioRunner.CpuSaturatedSeconds).Add(7);
        metrics.Counter(ScenarioRunner.LateTicks).Add(3);
        metrics.Gauge(ScenarioRunner.WorstTickLagMs).Set(420);
        metrics.Counter(ServiceLoad.GeneratorOverloaded).Add(5);
        var warnings = RunSession.GeneratorWarnings(metrics.Snapshot()).ToList();

        Assert.Contains(warnings, w => w.StartsWith("load generator saturated", StringComparison.Ordinal) && w.Contains("7 s"));
        Assert.Contains(warnings, w => w.Contains("3 times") && w.Contains("420 ms"));
        Assert.Contains(warnings, w => w.Contains("5 calls were not made"));
    }
}
