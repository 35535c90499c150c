using FleetSim.Metrics;

namespace FleetSim.Reporting.Tests.Text;

public sealed class CsvReportWriterTests
{
    [Fact]
    public void Summary_has_one_row_per_operation_with_counts_and_milliseconds()
    {
        var lines = CsvReportWriter.Summary(SampleReports.Known()).TrimEnd('\n').Split('\n');

        Assert.Equal(string.Join(',', CsvReportWriter.SummaryHeader), lines[0]);
        Assert.Equal(1 + Operations.All.Count, lines.Length);
        var connect = lines.Single(l => l.StartsWith("connect,", StringComparison.Ordinal)).Split(',');
        Assert.Equal(["connect", "5", "2"], connect[..3]);
        Assert.Equal("2", connect[Array.IndexOf(CsvReportWriter.SummaryHeader, "p99")]);
    }

    [Fact]
    public void Time_series_has_a_row_per_second_and_a_column_per_operation_and_error()
    {
        var lines = CsvReportWriter.TimeSeries(SampleReports.Known(seconds: 3)).TrimEnd('\n').Split('\n');

        Assert.Equal(4, lines.Length);
        var header = lines[0].Split(',');
        Assert.Equal(["seconds", "connected", "sentPerSecond", "ackedPerSecond", "askedRate"], header[..5]);
        Assert.Contains("telemetry.p99", header);
        Assert.Contains("errors.connect/throttled", header);
        var second = lines[2].Split(',');
        Assert.Equal("2", second[0]);
        Assert.Equal("101", second[Array.IndexOf(header, "sentPerSecond")]);
        Assert.Equal("120", second[Array.IndexOf(header, "askedRate")]);
        Assert.Equal("100", second[Array.IndexOf(header, "telemetry.ok")]);
        Assert.Equal("", second[Array.IndexOf(header, "connect.p50")]);
        Assert.Equal("2", lines[1].Split(',')[Array.IndexOf(header, "errors.connect/throttled")]);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("two\nlines", "\"two\nlines\"")]
    public void Fields_are_quoted_per_rfc_4180(string field, string expected) =>
        Assert.Equal(expected, CsvReportWriter.Escape(field));

    [Theory]
    [InlineData("errors.c2dSend/=SUM(A1)", "errors.c2dSend/=SUM(A1)")] // not at the start: harmless
    [InlineData("=1+2", "'=1+2")]
    [InlineData("+cmd", "'+cmd")]
    [InlineData("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tx", "'\tx")]
    [InlineData("\rx", "\"'\rx\"")]
    [InlineData("=a,b", "\"'=a,b\"")]
    [InlineData("-12.5", "-12.5")] // numbers stay numbers
    public void Text_that_a_spreadsheet_would_evaluate_as_a_formula_is_escaped(string field, string expected) =>
        Assert.Equal(expected, CsvReportWriter.Escape(field));
}
