using FleetSim.Metrics;

namespace FleetSim.Reporting.Tests.Text;

public sealed class ReportWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-all-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void WriteAll_writes_every_rendering_and_returns_their_paths()
    {
        var outDir = Path.Combine(_dir, "run1");
        var report = SampleReports.Known();

        var files = ReportWriter.WriteAll(report, outDir);

        Assert.Equal(
            ["report.json", "report.html", "summary.csv", "timeseries.csv", "summary.md"],
            files.All.Select(Path.GetFileName));
        Assert.All(files.All, f => Assert.True(new FileInfo(f).Length > 0, f));
        Assert.All(files.All, f => Assert.Equal(Path.GetFullPath(outDir), Path.GetDirectoryName(f)));
        Assert.Equal(ReportJson.Serialize(report), ReportJson.Serialize(ReportJson.Read(files.Json)));
        Assert.Equal(CsvReportWriter.TimeSeries(report), File.ReadAllText(files.TimeSeriesCsv));
    }

    [Fact]
    public void WriteAll_with_a_comparison_puts_its_table_in_html_and_markdown()
    {
        var current = SampleReports.Known(telemetryScale: 2);
        var comparison = ReportComparison.Compare(current, SampleReports.Known());

        var files = ReportWriter.WriteAll(current, _dir, comparison);

        Assert.Contains("Comparison with baseline", File.ReadAllText(files.Html), StringComparison.Ordinal);
        Assert.Contains("latency.telemetry.p99", File.ReadAllText(files.Html), StringComparison.Ordinal);
        Assert.Contains("| latency.telemetry.p99 |", File.ReadAllText(files.Markdown), StringComparison.Ordinal);
        Assert.Contains("**regression**", File.ReadAllText(files.Markdown), StringComparison.Ordinal);
    }
}
