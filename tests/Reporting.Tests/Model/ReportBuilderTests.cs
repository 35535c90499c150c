using FleetSim.Metrics;

namespace FleetSim.Reporting.Tests.Model;

public sealed class ReportBuilderTests
{
    [Fact]
    public void Latency_section_has_exact_counts_and_percentiles_in_milliseconds()
    {
        var report = SampleReports.Known();

        var telemetry = report.Latency[Operations.Telemetry];
        Assert.Equal(1000, telemetry.Count);
        Assert.Equal(0, telemetry.Failed);
        AssertClose(50, telemetry.P50);
        AssertClose(75, telemetry.P75);
        AssertClose(90, telemetry.P90);
        AssertClose(95, telemetry.P95);
        AssertClose(99, telemetry.P99);
        AssertClose(100, telemetry.P999);
        AssertClose(100, telemetry.Max);
        AssertClose(50.5, telemetry.Mean);
        Assert.Equal(100, telemetry.Throughput, 6);

        var connect = report.Latency[Operations.Connect];
        Assert.Equal((5L, 2L, 2.0), (connect.Count, connect.Failed, connect.P99));
        Assert.Equal(2, connect.Failures["throttled"]);
        Assert.Equal(2.0 / 7, connect.ErrorRate, 9);
    }

    [Fact]
    public void Every_known_operation_is_present_even_when_unused()
    {
        var report = SampleReports.Known();

        foreach (var name in Operations.All)
        {
            Assert.True(report.Latency.ContainsKey(name), name);
        }

        Assert.Equal(0, report.Latency[Operations.FileUpload].Count);
        Assert.Equal(0, report.Latency[Operations.FileUpload].P99);
    }

    [Fact]
    public void Devices_and_telemetry_sections_come_from_counters_gauges_and_hub_accounting()
    {
        var report = SampleReports.Known();

        Assert.Equal(new DevicesSection(5, 5, 5, []), report.Devices with { Groups = [] });
        Assert.Equal(new TelemetrySection(1010, 1000, 0, 1000, 10, 2, 1), report.Telemetry);
        Assert.Equal(10, report.Run.DurationSeconds);
    }

    [Fact]
    public void Ingest_numbers_are_null_when_the_hub_cannot_report_them()
    {
        var report = ReportBuilder.Build(SampleReports.KnownMetrics(), SampleReports.Inputs() with { Ingest = null });

        Assert.Null(report.Telemetry.Ingested);
        Assert.Null(report.Telemetry.Lost);
        Assert.Equal(1010, report.Telemetry.Sent);
    }

    [Fact]
    public void Time_series_has_one_point_per_second_with_rates_and_interval_percentiles()
    {
        var report = SampleReports.Known(seconds: 3);

        Assert.Equal(3, report.TimeSeries.Count);
        var point = report.TimeSeries[1];
        Assert.Equal(2, point.Seconds);
        Assert.Equal(5, point.Connected);
        Assert.Equal(101, point.SentPerSecond);
        Assert.Equal(100, point.AckedPerSecond);
        Assert.Equal(120, point.AskedRate);
        var telemetry = point.Operations[Operations.Telemetry];
        Assert.Equal(100, telemetry.Ok);
        AssertClose(50, telemetry.P50!.Value);
        AssertClose(99, telemetry.P99!.Value);
        Assert.Equal(2, report.TimeSeries[0].Errors["connect/throttled"]);
        Assert.Empty(point.Errors);
    }

    [Fact]
    public void Caller_warnings_are_appended_to_the_environment()
    {
        var report = SampleReports.Known();

        Assert.Equal(["first warning", "load generator saturated"], report.Environment.Warnings);
    }

    [Fact]
    public void Captured_environment_describes_this_process()
    {
        var environment = EnvironmentInfo.Capture(["w"]);

        Assert.Equal(Environment.ProcessorCount, environment.Cores);
        Assert.Contains(".NET", environment.DotnetVersion, StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(environment.FleetSimVersion));
        Assert.Equal(["w"], environment.Warnings);
    }

    private static void AssertClose(double expected, double actual) =>
        Assert.InRange(actual, expected * 0.999, expected * 1.001);
}

public sealed class ReportRedactionTests
{
    private const string Key = "c2VjcmV0LWtleS1iYXNlNjQtdmFsdWU=";

    [Fact]
    public void Secrets_in_scenario_text_exit_reason_and_warnings_are_redacted()
    {
        var text = $"name: x\nhub: HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={Key}\n";
        var inputs = SampleReports.Inputs(text: text) with
        {
            Run = SampleReports.Inputs().Run with { ExitReason = $"failed: bad hub SharedAccessKey={Key}" },
            Warnings = [$"token SharedAccessSignature sr=h&sig={Key}&se=1"],
        };

        var report = ReportBuilder.Build(SampleReports.KnownMetrics(), inputs);
        var json = ReportJson.Serialize(report);

        Assert.DoesNotContain(Key[..20], json, StringComparison.Ordinal);
        Assert.Contains("SharedAccessKey=***", report.Scenario.Text, StringComparison.Ordinal);
        Assert.Contains("HostName=h.azure-devices.net", report.Scenario.Text, StringComparison.Ordinal);
        Assert.StartsWith("failed: bad hub", report.Run.ExitReason, StringComparison.Ordinal);
    }
}

public sealed class VerdictTests
{
    [Theory]
    [InlineData("completed", true, "passed")]
    [InlineData("completed", false, "failed")]
    [InlineData("cancelled", true, "error")]
    [InlineData("failed: hub unreachable", true, "error")]
    public void Verdict_follows_exit_reason_and_thresholds(string exitReason, bool thresholdPassed, string expected)
    {
        ThresholdResult[] thresholds = [new("a", "p99 < 1ms", 0.5, true), new("b", "errors < 1%", 0, thresholdPassed)];

        Assert.Equal(expected, Verdicts.Decide(exitReason, thresholds));
    }

    [Theory]
    [InlineData(true, "passed")]
    [InlineData(false, "failed")]
    public void A_threshold_not_evaluated_decides_nothing_the_others_decide(bool otherPassed, string expected)
    {
        ThresholdResult[] thresholds =
        [
            new("methodRoundTrip", "p99 < 300ms", 412, false) { Evaluated = false, Note = "not enough samples (25 < 100)" },
            new("methodRoundTrip", "errorRate < 1%", 0, otherPassed),
        ];

        Assert.Equal(expected, Verdicts.Decide("completed", thresholds));
    }

    [Fact]
    public void Failed_exit_reason_carries_the_cause() =>
        Assert.Equal("failed: boom", ExitReasons.Failed("boom"));
}

public sealed class GroupTableTests
{
    [Fact]
    public void Group_rows_come_from_the_group_metrics_in_the_given_order()
    {
        var metrics = new FleetMetrics();
        metrics.Counter(GroupMetrics.TelemetrySent("sensors")).Add(10);
        metrics.Counter(GroupMetrics.TelemetryAcked("sensors")).Add(9);
        metrics.Counter(GroupMetrics.Errors("sensors")).Add(1);
        metrics.Gauge(GroupMetrics.DevicesConnected("sensors")).Set(4);
        metrics.Gauge(GroupMetrics.DevicesConnected("sensors")).Set(3);
        var inputs = SampleReports.Inputs() with
        {
            GroupTargets = [new("sensors", 5), new("gateways", 2)],
        };

        var report = ReportBuilder.Build(metrics.Snapshot(), inputs);

        Assert.Equal(
            [new DeviceGroupReport("sensors", 5, 4, 10, 9, 1), new DeviceGroupReport("gateways", 2, 0, 0, 0, 0)],
            report.Devices.Groups);
        Assert.Contains("<td class=\"l\">sensors</td><td>5</td><td>4</td>", HtmlReportWriter.Render(report), StringComparison.Ordinal);
    }
}

public sealed class TimeSeriesRateTests
{
    [Fact]
    public void First_point_rate_is_per_second_even_when_metrics_were_created_long_before()
    {
        var time = new ManualTime(SampleReports.Start);
        var metrics = new FleetMetrics(time);
        time.Advance(TimeSpan.FromSeconds(30)); // registering devices, nothing sent yet
        metrics.Counter(Counters.TelemetrySent).Add(50);
        metrics.Sample(time.Advance(TimeSpan.FromSeconds(1)));
        metrics.Counter(Counters.TelemetrySent).Add(20);
        metrics.Sample(time.Advance(TimeSpan.FromSeconds(2)));

        var report = ReportBuilder.Build(metrics.Snapshot(), SampleReports.Inputs());

        Assert.Equal([50.0, 10.0], report.TimeSeries.Select(p => p.SentPerSecond));
    }
}
