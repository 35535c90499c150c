using FleetSim.Metrics;

namespace FleetSim.Reporting.Tests.Comparison;

public sealed class ReportComparisonTests
{
    [Fact]
    public void An_equal_report_has_no_regressions()
    {
        var result = ReportComparison.Compare(SampleReports.Known(), SampleReports.Known());

        Assert.False(result.HasRegressions);
        var p99 = Row(result, "latency.telemetry.p99");
        Assert.Equal((0.0, 0.0), (p99.Delta, p99.RelativeDelta!.Value));
    }

    [Fact]
    public void Doubled_latency_is_flagged_on_p95_and_p99_only()
    {
        var result = ReportComparison.Compare(SampleReports.Known(telemetryScale: 2), SampleReports.Known());

        Assert.True(result.HasRegressions);
        Assert.Equal(["latency.telemetry.p95", "latency.telemetry.p99"], result.Regressions.Select(r => r.Metric));
        var p99 = Row(result, "latency.telemetry.p99");
        Assert.InRange(p99.RelativeDelta!.Value, 0.99, 1.01);
        Assert.InRange(p99.Delta, 98.5, 99.5);
        Assert.Equal(0.10, p99.Limit);
    }

    [Fact]
    public void Growth_within_the_configured_limit_is_not_flagged()
    {
        var limits = new ComparisonLimits { LatencyIncrease = 1.5 };

        var result = ReportComparison.Compare(SampleReports.Known(telemetryScale: 2), SampleReports.Known(), limits);

        Assert.False(result.HasRegressions);
    }

    [Fact]
    public void Tiny_absolute_latency_growth_is_within_tolerance()
    {
        // 1..100 µs scaled by 2 is +100 % but under the 1 ms tolerance.
        var result = ReportComparison.Compare(
            SampleReports.Known(telemetryScale: 0.002), SampleReports.Known(telemetryScale: 0.001));

        Assert.False(result.HasRegressions);
    }

    [Fact]
    public void Fallen_throughput_rising_errors_and_new_losses_are_flagged()
    {
        var baseline = SampleReports.Known();
        var telemetry = baseline.Latency[Operations.Telemetry];
        var current = baseline with
        {
            Latency = new Dictionary<string, OperationReport>(baseline.Latency)
            {
                [Operations.Telemetry] = telemetry with { Throughput = telemetry.Throughput * 0.85, Failed = 50 },
            },
            Telemetry = baseline.Telemetry with { Lost = baseline.Telemetry.Lost + 1 },
        };

        var result = ReportComparison.Compare(current, baseline);

        Assert.Equal(
            ["latency.telemetry.errorRate", "latency.telemetry.throughput", "telemetry.lost"],
            result.Regressions.Select(r => r.Metric).Order(StringComparer.Ordinal));
        Assert.Equal(-0.10, Row(result, "latency.telemetry.throughput").Limit);
    }

    [Fact]
    public void Unused_operations_are_left_out()
    {
        var result = ReportComparison.Compare(SampleReports.Known(), SampleReports.Known());

        Assert.DoesNotContain(result.Rows, r => r.Metric.StartsWith("latency.fileUpload.", StringComparison.Ordinal));
        Assert.Contains(result.Rows, r => r.Metric == "devices.connectedPeak");
    }

    [Fact]
    public void Bad_limits_are_refused_with_the_limit_named()
    {
        var e = Assert.Throws<ArgumentException>(() => ReportComparison.Compare(
            SampleReports.Known(), SampleReports.Known(), new ComparisonLimits { LatencyIncrease = -0.1 }));

        Assert.Contains("LatencyIncrease", e.Message, StringComparison.Ordinal);
    }

    private static ComparisonRow Row(ComparisonResult result, string metric) => result.Rows.Single(r => r.Metric == metric);
}
