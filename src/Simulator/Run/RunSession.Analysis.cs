using FleetSim.Metrics;
using FleetSim.Reporting;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Running;

namespace FleetSim.Simulator.Run;

/// <summary>What a run concludes from its measurements: recovery per fault, and whether the generator itself was the bottleneck.</summary>
public static partial class RunSession
{
    /// <summary>
    /// Recovery per fault from the devices' connection events. A loss up to 1.5 keep-alives (the time a device needs to
    /// notice a silent hub) plus 5 s after a fault's end still counts as caused by it. The hub's connect limit is known when
    /// the embedded emulator runs with a connect quota or the run names an IoT Hub tier.
    /// </summary>
    private static RecoveryResult AnalyzeRecovery(Scenario scenario, RunRequest request, IReadOnlyList<FaultWindow?> windows, FleetMetrics metrics,
        MetricsSnapshot snapshot, DateTimeOffset stoppingAt)
    {
        var keepAlive = scenario.DeviceGroups.Count == 0 ? TimeSpan.Zero : scenario.DeviceGroups.Max(g => g.KeepAlive);
        var attribution = keepAlive * 1.5 + RecoveryAnalysis.MinimumAttribution;
        // An explicit emulator quota, else the tier's connect throttle (the emulator shaped like a tier, or a real hub's named tier).
        double? limit = request.Hub is null && scenario.Hub is EmbeddedHub { Options.Quotas.ConnectsPerSecond: { } quota }
            ? quota
            : RunDevices.EffectiveTier(request)?.ConnectsPerSecond;
        return RecoveryAnalysis.Analyze(windows, metrics.Recovery.Events(), snapshot.Series, stoppingAt, attribution, limit, metrics.Recovery.Discarded);
    }

    /// <summary>When the load generator itself was the bottleneck, the report must say so: its latencies then include its own queueing.</summary>
    public static IEnumerable<string> GeneratorWarnings(MetricsSnapshot snapshot)
    {
        var counters = snapshot.Counters;
        if (counters.GetValueOrDefault(ScenarioRunner.CpuSaturatedSeconds) is > 0 and var cpu)
            yield return $"load generator saturated: this process used over {GeneratorLoad.SaturatedAbove:P0} of all cores for {cpu} s; latencies include the generator's own queueing (use fewer devices per process or more cores)";
        if (counters.GetValueOrDefault(ScenarioRunner.LateTicks) is > 0 and var late)
        {
            var worst = snapshot.Gauges.TryGetValue(ScenarioRunner.WorstTickLagMs, out var g) ? g.Peak : 0;
            yield return $"load generator fell behind its schedule {late} times (worst {worst} ms late): its dispatcher was busy; devices and calls were started late and that lateness is in their latency";
        }

        if (counters.GetValueOrDefault(ServiceLoad.GeneratorOverloaded) is > 0 and var overloaded)
            yield return $"service-side load: {overloaded} calls were not made because {ServiceLoad.MaxOutstandingPerAction} of the same action were still outstanding (counted as failures 'generatorOverloaded')";
        if (counters.GetValueOrDefault(ServiceLoad.NoTarget) is > 0 and var noTarget)
            yield return $"service-side load: {noTarget} calls were skipped because no device of their target was connected at their moment";
    }
}
