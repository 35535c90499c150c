using System.Globalization;
using FleetSim.Metrics;
using FleetSim.Reporting;
using Spectre.Console;

namespace FleetSim.Simulator.Live;

/// <summary>How the run shows progress: a live Spectre.Console panel on a terminal, a plain line every few seconds
/// when the output is a file or a pipe (CI logs), nothing with --quiet.</summary>
public enum LiveMode
{
    Live,
    Plain,
    Quiet,
}

/// <summary>
/// Reads the shared metrics once a second (never the actors) and shows devices connected of target, msg/s, p99 and
/// errors, with a progress bar over the run's duration.
/// </summary>
public sealed class LiveView(FleetMetrics metrics, string scenarioName, TimeSpan duration, int targetDevices, LiveMode mode, TextWriter? plainOut = null)
{
    private static readonly TimeSpan PlainEvery = TimeSpan.FromSeconds(5);

    public static LiveMode Choose(bool quiet) =>
        quiet ? LiveMode.Quiet : Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive ? LiveMode.Plain : LiveMode.Live;

    public async Task RunAsync(CancellationToken stop)
    {
        switch (mode)
        {
            case LiveMode.Quiet:
                return;
            case LiveMode.Plain:
                await RunPlainAsync(stop);
                return;
            default:
                await AnsiConsole.Live(Render(Read())).AutoClear(true).StartAsync(async ctx =>
                {
                    using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
                    try
                    {
                        while (await timer.WaitForNextTickAsync(stop))
                            ctx.UpdateTarget(Render(Read()));
                    }
                    catch (OperationCanceledException)
                    {
                    }
                });
                return;
        }
    }

    private async Task RunPlainAsync(CancellationToken stop)
    {
        var output = plainOut ?? Console.Out;
        using var timer = new PeriodicTimer(PlainEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
                await output.WriteLineAsync(FormatLine(Read()));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One plain progress line, e.g. for CI logs.</summary>
    public static string FormatLine(LiveStatus s) => string.Create(CultureInfo.InvariantCulture,
        $"[{s.Elapsed:hh\\:mm\\:ss}] devices {s.Connected}/{s.Asked} (target {s.Target}{(s.ConnectQueued > 0 ? $", {s.ConnectQueued} queued to connect" : "")}) | sent {s.MessagesPerSecond:0}/s acked {s.AckedPerSecond:0}/s | telemetry p99 {s.TelemetryP99Ms:0.0} ms | errors {s.Errors}");

    private long _lastSent;
    private long _lastAcked;
    private DateTimeOffset _lastAt = DateTimeOffset.MinValue;

    private LiveStatus Read()
    {
        var snapshot = metrics.Snapshot();
        var now = snapshot.TakenAt;
        var sent = snapshot.Counters.GetValueOrDefault(Counters.TelemetrySent);
        var acked = snapshot.Counters.GetValueOrDefault(Counters.TelemetryAcked);
        var seconds = _lastAt == DateTimeOffset.MinValue ? Math.Max(0.001, (now - snapshot.StartedAt).TotalSeconds) : Math.Max(0.001, (now - _lastAt).TotalSeconds);
        var status = new LiveStatus(
            now - snapshot.StartedAt,
            snapshot.Gauges.GetValueOrDefault(Gauges.DevicesConnected)?.Value ?? 0,
            snapshot.Gauges.GetValueOrDefault("devices.asked")?.Value ?? 0,
            targetDevices,
            (sent - _lastSent) / seconds,
            (acked - _lastAcked) / seconds,
            snapshot.Operations.TryGetValue(Operations.Telemetry, out var t) ? t.Latency.P99Ms : 0,
            SumFailures(snapshot),
            snapshot.Gauges.GetValueOrDefault(FleetSim.DeviceActors.DeviceMetrics.ConnectQueuedName)?.Value ?? 0);
        (_lastSent, _lastAcked, _lastAt) = (sent, acked, now);
        return status;
    }

    private static long SumFailures(MetricsSnapshot snapshot)
    {
        long failed = 0;
        foreach (var op in snapshot.Operations.Values)
            failed += op.FailedCount;
        return failed;
    }

    private Panel Render(LiveStatus s)
    {
        var progress = duration <= TimeSpan.Zero ? 1 : Math.Clamp(s.Elapsed / duration, 0, 1);
        var bar = new BreakdownChart().Width(60).HideTags()
            .AddItem("done", Math.Max(0.0001, progress), Color.Green)
            .AddItem("left", Math.Max(0.0001, 1 - progress), Color.Grey23);
        var table = new Grid().AddColumn().AddColumn();
        table.AddRow("devices", $"{s.Connected:N0} connected / {s.Asked:N0} asked (fleet {s.Target:N0})"
            + (s.ConnectQueued > 0 ? $", {s.ConnectQueued:N0} queued to connect" : ""));
        table.AddRow("telemetry", $"{s.MessagesPerSecond:N0} sent/s, {s.AckedPerSecond:N0} acked/s, p99 {s.TelemetryP99Ms:0.0} ms");
        table.AddRow("errors", s.Errors == 0 ? "0" : $"[red]{s.Errors:N0}[/]");
        table.AddRow("time", $"{s.Elapsed:hh\\:mm\\:ss} of {duration:hh\\:mm\\:ss}");
        return new Panel(new Rows(table, bar)).Header(Markup.Escape(scenarioName));
    }
}

/// <param name="ConnectQueued">Devices waiting for a connect slot (the scenario's connectsInFlight), not failing.</param>
public sealed record LiveStatus(TimeSpan Elapsed, long Connected, long Asked, int Target, double MessagesPerSecond, double AckedPerSecond, double TelemetryP99Ms, long Errors,
    long ConnectQueued = 0);
