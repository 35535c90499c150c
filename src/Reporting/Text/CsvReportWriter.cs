using System.Globalization;
using System.Text;

using FleetSim.Metrics;

namespace FleetSim.Reporting;

/// <summary>
/// CSV renderings for spreadsheets and scripts (RFC 4180, comma separated, invariant culture, empty cell for
/// "no value"): summary.csv has one row per operation, timeseries.csv one row per second.
/// </summary>
public static class CsvReportWriter
{
    public static readonly string[] SummaryHeader =
    [
        "operation", "count", "failed", "errorRate", "throughput", "p50", "p75", "p90", "p95", "p99", "p999", "max",
        "mean", "stddev",
    ];

    public static void WriteSummary(RunReport report, string path) => File.WriteAllText(path, Summary(report), new UTF8Encoding(false));

    public static void WriteTimeSeries(RunReport report, string path) => File.WriteAllText(path, TimeSeries(report), new UTF8Encoding(false));

    /// <summary>One row per operation (all known ones, zeros when unused); latencies in milliseconds.</summary>
    public static string Summary(RunReport report)
    {
        var csv = new StringBuilder();
        Line(csv, SummaryHeader);
        foreach (var (name, op) in report.Latency)
        {
            Line(csv,
            [
                name, N(op.Count), N(op.Failed), F(op.ErrorRate), F(op.Throughput), F(op.P50), F(op.P75), F(op.P90),
                F(op.P95), F(op.P99), F(op.P999), F(op.Max), F(op.Mean), F(op.StdDev),
            ]);
        }

        return csv.ToString();
    }

    /// <summary>
    /// One row per second: seconds, connected, sentPerSecond, ackedPerSecond, askedRate, reconnects,
    /// connectionsLost, then "&lt;op&gt;.ok/.failed/.p50/.p95/.p99" per operation and "errors.&lt;op&gt;/&lt;reason&gt;" per error kind.
    /// </summary>
    public static string TimeSeries(RunReport report)
    {
        var operations = new SortedSet<string>(StringComparer.Ordinal);
        var errors = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var point in report.TimeSeries)
        {
            operations.UnionWith(point.Operations.Keys);
            errors.UnionWith(point.Errors.Keys);
        }

        var header = new List<string>
        {
            "seconds", "connected", "sentPerSecond", "ackedPerSecond", "askedRate", "reconnects", "connectionsLost",
        };
        foreach (var op in operations)
        {
            header.AddRange([op + ".ok", op + ".failed", op + ".p50", op + ".p95", op + ".p99"]);
        }

        header.AddRange(errors.Select(static e => "errors." + e));
        var csv = new StringBuilder();
        Line(csv, header);
        var row = new List<string>(header.Count);
        foreach (var p in report.TimeSeries)
        {
            row.Clear();
            row.AddRange(
            [
                F(p.Seconds), N(p.Connected), F(p.SentPerSecond), F(p.AckedPerSecond), p.AskedRate is { } a ? F(a) : "",
                N(p.Reconnects), N(p.ConnectionsLost),
            ]);
            foreach (var name in operations)
            {
                if (p.Operations.TryGetValue(name, out var op))
                {
                    row.AddRange([N(op.Ok), N(op.Failed), Opt(op.P50), Opt(op.P95), Opt(op.P99)]);
                }
                else
                {
                    row.AddRange(["0", "0", "", "", ""]);
                }
            }

            foreach (var error in errors)
            {
                row.Add(p.Errors.TryGetValue(error, out var n) ? N(n) : "0");
            }

            Line(csv, row);
        }

        return csv.ToString();
    }

    /// <summary>
    /// Quotes a field when it holds a comma, quote or line break (RFC 4180). A text field starting with = + - @ tab or CR
    /// (a spreadsheet formula; column names carry hub-supplied error codes) gets a leading apostrophe, so a spreadsheet
    /// shows it as text instead of evaluating it; numbers (also negative ones) stay as they are.
    /// </summary>
    public static string Escape(string field)
    {
        if (field.Length > 0 && field[0] is '=' or '+' or '-' or '@' or '\t' or '\r'
            && !double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            field = "'" + field;
        }

        return field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    private static void Line(StringBuilder csv, IReadOnlyList<string> fields)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            if (i > 0)
            {
                csv.Append(',');
            }

            csv.Append(Escape(fields[i]));
        }

        csv.Append('\n');
    }

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string F(double value) => double.IsFinite(value) ? value.ToString("R", CultureInfo.InvariantCulture) : "";

    private static string Opt(double? value) => value is { } v ? F(v) : "";
}
