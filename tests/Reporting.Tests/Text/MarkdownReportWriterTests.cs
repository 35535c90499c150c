using FleetSim.Metrics;

namespace FleetSim.Reporting.Tests.Text;

public sealed class MarkdownReportWriterTests
{
    [Fact]
    public void Summary_shows_verdict_totals_operations_and_thresholds()
    {
        var md = MarkdownReportWriter.Render(SampleReports.Known());

        Assert.StartsWith("# FleetSim: quickstart\n", md, StringComparison.Ordinal);
        Assert.Contains("**Verdict: passed**", md, StringComparison.Ordinal);
        Assert.Contains("| 5 / 5 | 1,010 | 1,000 | 1,000 | 10 | 2 | 1 | 0 |", md, StringComparison.Ordinal);
        Assert.Contains("| connect | 5 | 2 | 0.5 | 2 | 2 | 2 | 2 |", md, StringComparison.Ordinal);
        Assert.Contains("| connect | throttled | 2 |", md, StringComparison.Ordinal);
        Assert.Contains("| telemetry p99 | p99 &lt; 200ms | 99 | passed |", md, StringComparison.Ordinal);
        Assert.Contains("> Warning: load generator saturated", md, StringComparison.Ordinal);
        Assert.DoesNotContain("fileUpload", md, StringComparison.Ordinal);
    }

    [Fact]
    public void User_strings_cannot_break_the_table_or_inject_html()
    {
        Assert.Equal("a \\| b &lt;script&gt; c", MarkdownReportWriter.Cell("a | b <script>\nc"));
    }
}
