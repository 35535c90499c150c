using FleetSim.Metrics;

namespace FleetSim.Reporting.Tests;

/// <summary>Reports built from known recorded data, shared by the report tests.</summary>
internal static class SampleReports
{
    public static readonly DateTimeOffset Start = new(2026, 3, 4, 10, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// 10 seconds, 5 devices; telemetry: 100 msg/s with latency i ms for the i-th message of each second
    /// (1..100 ms), connect: 5 ok at 2 ms and 2 "throttled" failures; asked rate 120 msg/s.
    /// </summary>
    public static MetricsSnapshot KnownMetrics(int seconds = 10, double telemetryScale = 1.0)
    {
        var time = new ManualTime(Start);
        var metrics = new FleetMetrics(time);
        var connect = metrics.Operation(Operations.Connect);
        var telemetry = metrics.Operation(Operations.Telemetry);
        var sent = metrics.Counter(Counters.TelemetrySent);
        var acked = metrics.Counter(Counters.TelemetryAcked);
        var connected = metrics.Gauge(Gauges.DevicesConnected);
        metrics.Gauge(Gauges.TelemetryAskedRate).Set(120);
        for (var d = 0; d < 5; d++)
        {
            connect.RecordOk(TimeSpan.FromMilliseconds(2));
            connected.Increment();
        }

        connect.RecordFailure("throttled");
        connect.RecordFailure("throttled");
        for (var s = 0; s < seconds; s++)
        {
            for (var i = 1; i <= 100; i++)
            {
                telemetry.RecordOk(TimeSpan.FromMilliseconds(i * telemetryScale));
            }

            sent.Add(101);
            acked.Add(100);
            metrics.Sample(time.Advance(TimeSpan.FromSeconds(1)));
        }

        return metrics.Snapshot();
    }

    public static ReportInputs Inputs(string name = "quickstart", string? text = null) => new()
    {
        Scenario = new ScenarioSection(name, "scenarios/quickstart.yaml", text ?? "name: quickstart\ndevices:\n  count: 5\n"),
        Run = new RunSection(Start, Start.AddSeconds(10), HubKinds.Embedded, Verdicts.Passed, "completed"),
        DeviceTarget = 5,
        Ingest = new IngestAccounting(1000, 10, 2, 1),
        Thresholds = [new ThresholdResult("telemetry p99", "p99 < 200ms", 99.0, true)],
        Environment = new EnvironmentSection("test-machine", "Linux", 2, ".NET 10", "0.1.0", ["first warning"]),
        Warnings = ["load generator saturated"],
    };

    public static RunReport Known(int seconds = 10, double telemetryScale = 1.0, string name = "quickstart", string? text = null) =>
        ReportBuilder.Build(KnownMetrics(seconds, telemetryScale), Inputs(name, text));
}
