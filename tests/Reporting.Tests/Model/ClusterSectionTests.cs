using FleetSim.Metrics;

namespace FleetSim.Reporting.Tests.Model;

/// <summary>The report of a multi-process run: per-node table, node events, per-node connected lines (issue 11).</summary>
public sealed class ClusterSectionTests
{
    private static RunReport Report()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var metrics = new FleetMetrics(time);
        var merger = new ClusterMetricsMerger(metrics);
        var a = new FleetMetrics(exportIntervals: true);
        var b = new FleetMetrics(exportIntervals: true);
        for (var second = 1; second <= 10; second++)
        {
            a.Gauge(Gauges.DevicesConnected).Set(second < 5 ? 30 : 0);
            b.Gauge(Gauges.DevicesConnected).Set(second < 5 ? 20 : 50);
            a.Counter(Counters.TelemetryAcked).Add(second < 5 ? 30 : 0);
            b.Counter(Counters.TelemetryAcked).Add(b.Gauge(Gauges.DevicesConnected).Value);
            if (second == 1)
            {
                a.Operation(Operations.Connect).RecordOk(TimeSpan.FromMilliseconds(5));
                a.Operation(Operations.Connect).RecordFailure("timeout");
            }

            if (second < 5)
                merger.Absorb("a", a.TakeInterval(), new NodeProcessSample(30, 400, 100 << 20));
            else if (second == 5)
                merger.Forget("a");
            merger.Absorb("b", b.TakeInterval(), new NodeProcessSample(second < 5 ? 20 : 50, 200, 80 << 20));
            time.Advance(TimeSpan.FromSeconds(1));
            metrics.Sample(time.GetUtcNow());
        }

        var events = new[] { new NodeEvent(5, NodeEventKinds.Lost, "a", 30, 30, 4.5, 6, 120, 3, "node a was lost; its 30 devices moved to b") };
        return ReportBuilder.Build(metrics.Snapshot(), SampleReports.Inputs() with { ClusterEvents = events });
    }

    [Fact]
    public void Each_worker_node_gets_a_row_with_its_devices_connects_rate_errors_cpu_and_memory()
    {
        var cluster = Report().Cluster!;

        Assert.Equal(["a", "b"], cluster.Nodes.Select(n => n.Name));
        var a = cluster.Nodes[0];
        Assert.Equal(30, a.DevicesPeak);
        Assert.Equal(1, a.Connects);
        Assert.Equal(1, a.Errors);
        Assert.Equal(40, a.CpuPercentPeak);
        Assert.Equal(100L << 20, a.RssPeakBytes);
        Assert.Equal(50, cluster.Nodes[1].DevicesPeak);
        Assert.True(cluster.Nodes[1].MessagesPerSecond > a.MessagesPerSecond);
    }

    [Fact]
    public void Per_node_connected_lines_follow_the_time_series_and_a_lost_node_drops_to_zero()
    {
        var report = Report();
        var a = report.Cluster!.Connected.Single(l => l.Node == "a");

        Assert.Equal(report.TimeSeries.Count, a.Connected.Count);
        Assert.Equal(30, a.Connected[0]);
        Assert.Equal(0, a.Connected[^1]);
        Assert.Equal(50, report.TimeSeries[^1].Connected); // the fleet's gauge no longer counts the lost node
    }

    [Fact]
    public void The_node_loss_is_an_event_in_json_and_html_and_the_chart_has_a_line_per_node()
    {
        var report = Report();
        var back = ReportJson.Parse(ReportJson.Serialize(report));
        var lost = Assert.Single(back.Cluster!.Events);
        Assert.Equal((NodeEventKinds.Lost, "a", 30L, 120L), (lost.Kind, lost.Node, lost.DevicesAffected, lost.TelemetryNotSent));

        var markdown = MarkdownReportWriter.Render(report);
        Assert.Contains("| node | devices (peak)", markdown);
        Assert.Contains("node event at 5 s: node a was lost", markdown);

        var html = HtmlReportWriter.Render(report);
        Assert.Contains("<h2>Worker nodes</h2>", html);
        Assert.Contains("node a was lost", html);
        Assert.Contains("node b", html); // a chart line
    }

    [Fact]
    public void A_one_process_run_has_no_cluster_section()
    {
        Assert.Null(SampleReports.Known().Cluster);
        Assert.DoesNotContain("Worker nodes", HtmlReportWriter.Render(SampleReports.Known()));
    }
}
