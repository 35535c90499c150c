using FleetSim.Protocol;

using FleetSim.Metrics;

namespace FleetSim.Reporting;

/// <summary>Turns a <see cref="MetricsSnapshot"/> and the runner's <see cref="ReportInputs"/> into a <see cref="RunReport"/>.</summary>
public static class ReportBuilder
{
    public static RunReport Build(MetricsSnapshot metrics, ReportInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(inputs);
        // Secrets never reach a report: the scenario text, an exit reason quoting an error, and warnings are
        // redacted here even when the caller already did.
        var run = inputs.Run with
        {
            ExitReason = Redaction.Redact(inputs.Run.ExitReason),
            CommandLine = inputs.Run.CommandLine is { } commandLine ? Redaction.Redact(commandLine) : null,
            EffectiveScenario = inputs.Run.EffectiveScenario is { } effective ? Redaction.Redact(effective) : null,
        };
        var environment = inputs.Environment ?? EnvironmentInfo.Capture();
        environment = environment with
        {
            Warnings = [.. environment.Warnings.Concat(inputs.Warnings).Select(static w => Redaction.Redact(w))],
        };

        var scenario = inputs.Scenario;
        if (scenario.Text is not null)
        {
            scenario = scenario with { Text = Redaction.Redact(scenario.Text) };
        }

        if (scenario.Description is not null)
        {
            scenario = scenario with { Description = Redaction.Redact(scenario.Description) };
        }

        metrics.Gauges.TryGetValue(Gauges.DevicesConnected, out var connected);
        // The runner records the connected count just before it stops the devices; without it (a bare snapshot) the current value.
        var connectedAtEnd = metrics.Gauges.TryGetValue(Gauges.DevicesConnectedAtEnd, out var atEnd) ? atEnd.Value : connected?.Value ?? 0;
        var ingest = inputs.Ingest;
        var telemetry = new TelemetrySection(
            CounterOf(metrics, Counters.TelemetrySent),
            CounterOf(metrics, Counters.TelemetryAcked),
            CounterOf(metrics, Counters.TelemetryDropped),
            ingest?.Ingested,
            ingest?.Lost,
            ingest?.Duplicated,
            ingest?.OutOfOrder);

        return new RunReport(
            RunReport.CurrentSchemaVersion,
            scenario,
            run,
            new DevicesSection(inputs.DeviceTarget, connected?.Peak ?? 0, connectedAtEnd, BuildGroups(metrics, inputs)),
            telemetry,
            BuildLatency(metrics, run.DurationSeconds),
            metrics.Counters,
            TimeSeriesBuilder.Build(metrics, run.Start),
            inputs.Thresholds,
            environment)
        {
            Faults = [.. inputs.Faults.OrderBy(static f => f.AtSeconds).Select(static f => f with { Description = Redaction.Redact(f.Description) })],
            Cluster = inputs.ClusterEvents is { } events ? ClusterSectionBuilder.Build(metrics, events, run.DurationSeconds) : null,
            Recovery = inputs.Recovery,
            Convergence = inputs.Convergence,
            Generator = BuildGenerator(metrics),
        };
    }

    /// <summary>Every known operation (zeros when unused, so reports are comparable), plus any others recorded.</summary>
    private static SortedDictionary<string, OperationReport> BuildLatency(MetricsSnapshot metrics, double seconds)
    {
        var latency = new SortedDictionary<string, OperationReport>(StringComparer.Ordinal);
        foreach (var name in Operations.All)
        {
            latency[name] = ToReport(null, seconds);
        }

        foreach (var (name, op) in metrics.Operations)
        {
            if (name != GeneratorMetrics.SendLag) // the generator's own timing is its own section, not an operation
                latency[name] = ToReport(op, seconds);
        }

        return latency;
    }

    /// <summary>The generator's send lag and skipped messages; null when no telemetry was made.</summary>
    private static GeneratorSection? BuildGenerator(MetricsSnapshot metrics)
    {
        var skipped = CounterOf(metrics, GeneratorMetrics.Skipped);
        if (!metrics.Operations.TryGetValue(GeneratorMetrics.SendLag, out var lag) && skipped == 0)
            return null;
        var s = lag?.Latency ?? LatencyStats.Empty;
        return new GeneratorSection(new LatencyBrief(lag?.OkCount ?? 0, s.P50Ms, s.P99Ms, s.MaxMs), skipped);
    }

    private static OperationReport ToReport(OperationSnapshot? op, double seconds)
    {
        var s = op?.Latency ?? LatencyStats.Empty;
        var ok = op?.OkCount ?? 0;
        return new OperationReport(
            ok,
            op?.FailedCount ?? 0,
            op?.FailuresByReason ?? new Dictionary<string, long>(),
            s.P50Ms,
            s.P75Ms,
            s.P90Ms,
            s.P95Ms,
            s.P99Ms,
            s.P999Ms,
            s.MaxMs,
            s.MeanMs,
            s.StdDevMs,
            seconds > 0 ? ok / seconds : 0,
            s.Distribution);
    }

    private static IReadOnlyList<DeviceGroupReport> BuildGroups(MetricsSnapshot metrics, ReportInputs inputs)
    {
        if (inputs.Groups.Count > 0)
        {
            return inputs.Groups;
        }

        var groups = new DeviceGroupReport[inputs.GroupTargets.Count];
        for (var i = 0; i < groups.Length; i++)
        {
            var (name, target) = inputs.GroupTargets[i];
            metrics.Gauges.TryGetValue(GroupMetrics.DevicesConnected(name), out var connected);
            groups[i] = new DeviceGroupReport(
                name,
                target,
                connected?.Peak ?? 0,
                CounterOf(metrics, GroupMetrics.TelemetrySent(name)),
                CounterOf(metrics, GroupMetrics.TelemetryAcked(name)),
                CounterOf(metrics, GroupMetrics.Errors(name)))
            {
                TelemetryDropped = CounterOf(metrics, GroupMetrics.TelemetryDropped(name)),
                TelemetryResent = CounterOf(metrics, GroupMetrics.TelemetryResent(name)),
            };
        }

        return groups;
    }

    private static long CounterOf(MetricsSnapshot metrics, string name) =>
        metrics.Counters.TryGetValue(name, out var value) ? value : 0;
}
