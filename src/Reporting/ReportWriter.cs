using FleetSim.Metrics;

namespace FleetSim.Reporting;

/// <summary>The files one report was written to.</summary>
public sealed record ReportFiles(string Json, string Html, string SummaryCsv, string TimeSeriesCsv, string Markdown)
{
    public IReadOnlyList<string> All => [Json, Html, SummaryCsv, TimeSeriesCsv, Markdown];
}

/// <summary>Writes every rendering of a report into one folder.</summary>
public static class ReportWriter
{
    public const string JsonFile = "report.json";
    public const string HtmlFile = "report.html";
    public const string SummaryCsvFile = "summary.csv";
    public const string TimeSeriesCsvFile = "timeseries.csv";
    public const string MarkdownFile = "summary.md";

    /// <summary>
    /// Writes report.json, report.html, summary.csv, timeseries.csv and summary.md into <paramref name="outDir"/>
    /// (created when missing, existing files replaced); with a comparison, HTML and Markdown include its table.
    /// </summary>
    public static ReportFiles WriteAll(RunReport report, string outDir, ComparisonResult? comparison = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentException.ThrowIfNullOrWhiteSpace(outDir);
        Directory.CreateDirectory(outDir);
        var files = new ReportFiles(
            Path.GetFullPath(Path.Combine(outDir, JsonFile)),
            Path.GetFullPath(Path.Combine(outDir, HtmlFile)),
            Path.GetFullPath(Path.Combine(outDir, SummaryCsvFile)),
            Path.GetFullPath(Path.Combine(outDir, TimeSeriesCsvFile)),
            Path.GetFullPath(Path.Combine(outDir, MarkdownFile)));
        ReportJson.Write(report, files.Json);
        HtmlReportWriter.Write(report, files.Html, comparison);
        CsvReportWriter.WriteSummary(report, files.SummaryCsv);
        CsvReportWriter.WriteTimeSeries(report, files.TimeSeriesCsv);
        MarkdownReportWriter.Write(report, files.Markdown, comparison);
        return files;
    }
}
