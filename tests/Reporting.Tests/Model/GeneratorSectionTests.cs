using FleetSim.Metrics;

namespace FleetSim.Reporting.Tests.Model;

/// <summary>The generator's own timing in report.json, the HTML summary, and its absence from the operations.</summary>
public sealed class GeneratorSectionTests
{
    private static MetricsSnapshot WithSendLag(long skipped)
    {
        var metrics = new FleetMetrics(new ManualTime(SampleReports.Start));
        var lag = metrics.Operation(GeneratorMetrics.SendLag);
        for (var i = 1; i <= 100; i++)
            lag.RecordOk(TimeSpan.FromMicroseconds(10 * i)); // 0.01 .. 1.00 ms
        metrics.Counter(GeneratorMetrics.Skipped).Add(skipped);
        return metrics.Snapshot();
    }

    [Fact]
    public void Report_has_the_generator_send_lag_percentiles_and_is_not_limited_without_skipped_messages()
    {
        var report = ReportBuilder.Build(WithSendLag(skipped: 0), SampleReports.Inputs());

        var generator = Assert.IsType<GeneratorSection>(report.Generator);
        Assert.Equal(100, generator.SendLag.Count);
        Assert.Equal(0.5, generator.SendLag.P50, 2);
        Assert.Equal(0.99, generator.SendLag.P99, 2);
        Assert.Equal(1.0, generator.SendLag.Max, 2);
        Assert.False(generator.Limited);
        Assert.False(report.Latency.ContainsKey(GeneratorMetrics.SendLag)); // its own section, not an operation
    }

    [Fact]
    public void Skipped_messages_make_the_run_generator_limited_in_json_and_html()
    {
        var report = ReportBuilder.Build(WithSendLag(skipped: 1234), SampleReports.Inputs());

        Assert.True(report.Generator!.Limited);
        using var json = System.Text.Json.JsonDocument.Parse(ReportJson.Serialize(report));
        var generator = json.RootElement.GetProperty("generator");
        Assert.Equal(0.99, generator.GetProperty("sendLag").GetProperty("p99").GetDouble(), 2);
        Assert.Equal(1234, generator.GetProperty("skipped").GetInt64());
        Assert.True(generator.GetProperty("limited").GetBoolean());
        Assert.Equal(report.Generator, ReportJson.Parse(ReportJson.Serialize(report), "report.json").Generator);

        var html = HtmlReportWriter.Render(report);
        Assert.Contains("generator send lag p50 / p99 / max (ms)", html);
        Assert.Contains("yes: 1,234", html);
    }

    [Fact]
    public void A_run_without_telemetry_has_no_generator_section()
    {
        Assert.Null(ReportBuilder.Build(new FleetMetrics(new ManualTime(SampleReports.Start)).Snapshot(), SampleReports.Inputs()).Generator);
    }
}
