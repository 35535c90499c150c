using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

using FleetSim.Metrics;

namespace FleetSim.Reporting;

/// <summary>
/// Writes report.html: one self-contained file (plotly.js inlined once, no network) that answers "did the hub
/// hold, where did it break, how fast did it recover". Every user-supplied string is HTML-encoded.
/// </summary>
public static class HtmlReportWriter
{
    private const string Style = """
        body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1060px;color:#1f2937}
        h1{margin-bottom:4px}h2{margin-top:36px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
        table{border-collapse:collapse;margin:8px 0;font-size:14px}th,td{border:1px solid #e5e7eb;padding:4px 10px;text-align:right}
        th{background:#f3f4f6}td.l,th.l{text-align:left}.meta span{margin-right:18px}
        .verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:600}
        .passed{background:#15803d}.failed{background:#b91c1c}.error{background:#7c2d12}.other{background:#4b5563}
        .bad{color:#b91c1c;font-weight:600}.good{color:#15803d}.warn{background:#fef3c7;padding:6px 10px;border-radius:4px}
        pre{background:#f9fafb;border:1px solid #e5e7eb;padding:10px;overflow:auto;font-size:13px}
        """;

    public static void Write(RunReport report, string path, ComparisonResult? comparison = null)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllText(path, Render(report, comparison), new UTF8Encoding(false));
    }

    public static string Render(RunReport report, ComparisonResult? comparison = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        var html = new StringBuilder(PlotlyScript.Text.Length + 256 * 1024);
        var run = report.Run;
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>FleetSim report: ").Append(E(report.Scenario.Name)).Append("</title>\n<style>")
            .Append(Style).Append("</style>\n<script type=\"text/javascript\">").Append(PlotlyScript.Text)
            .Append("</script>\n</head><body>\n");

        html.Append("<h1>").Append(E(report.Scenario.Name)).Append("</h1>\n");
        if (report.Scenario.Description is { Length: > 0 } description)
        {
            html.Append("<p class=\"description\">").Append(E(description)).Append("</p>\n");
        }

        html.Append("<p class=\"meta\">")
            .Append("<span class=\"verdict ").Append(VerdictClass(run.Verdict)).Append("\">").Append(E(run.Verdict)).Append("</span>")
            .Append("<span>duration ").Append(F(run.DurationSeconds)).Append(" s</span>")
            .Append("<span>hub ").Append(E(run.HubKind)).Append("</span>")
            .Append("<span>exit ").Append(E(run.ExitReason)).Append("</span>")
            .Append("<span>").Append(E(run.Start.ToString("u", CultureInfo.InvariantCulture))).Append(" to ")
            .Append(E(run.End.ToString("u", CultureInfo.InvariantCulture))).Append("</span>");
        if (report.Scenario.File is { } file)
        {
            html.Append("<span>").Append(E(file)).Append("</span>");
        }

        html.Append("</p>\n");
        foreach (var warning in report.Environment.Warnings)
        {
            html.Append("<p class=\"warn\">Warning: ").Append(E(warning)).Append("</p>\n");
        }

        Summary(html, report);
        Operations(html, report);
        if (comparison is not null)
        {
            ComparisonSection(html, comparison);
        }

        html.Append("<h2>Over time</h2>\n");
        foreach (var chart in ReportCharts.Build(report))
        {
            html.Append("<h3>").Append(E(chart.Title)).Append("</h3>\n").Append(chart.Html).Append('\n');
        }

        Groups(html, report);
        ClusterNodes(html, report);
        Faults(html, report);
        RecoveryHtml.Recovery(html, report);
        RecoveryHtml.Convergence(html, report);
        Thresholds(html, report);
        Ingest(html, report.Telemetry);
        Environment(html, report.Environment);
        html.Append("<h2>Scenario</h2>\n<pre>").Append(E(report.Scenario.Text ?? "(not recorded)")).Append("</pre>\n");
        Reproduce(html, report.Run);
        html.Append("<p class=\"meta\">FleetSim report schema ").Append(report.SchemaVersion).Append("</p>\n</body></html>\n");
        return html.ToString();
    }

    /// <summary>How the run was started and the values it used (collapsed: for reproducing a run, not for reading it).</summary>
    private static void Reproduce(StringBuilder html, RunSection run)
    {
        if (run.CommandLine is null && run.EffectiveScenario is null)
        {
            return;
        }

        html.Append("<details id=\"reproduce\"><summary>How to reproduce this run: command line and effective scenario</summary>\n");
        if (run.Id is { } id)
        {
            html.Append("<p>run id ").Append(E(id)).Append("</p>\n");
        }

        html.Append("<h3>Command line</h3>\n<pre>").Append(E(run.CommandLine ?? "(not recorded)")).Append("</pre>\n")
            .Append("<h3>Effective scenario (after --set, --duration, --scale)</h3>\n<pre>").Append(E(run.EffectiveScenario ?? "(not recorded)"))
            .Append("</pre>\n</details>\n");
    }

    private static void Summary(StringBuilder html, RunReport report)
    {
        var t = report.Telemetry;
        var d = report.Devices;
        html.Append("<h2>Summary</h2>\n<table>");
        Row(html, "devices target", N(d.Target));
        Row(html, "devices connected (peak / at end)", N(d.ConnectedPeak) + " / " + N(d.ConnectedAtEnd));
        Row(html, "telemetry sent / acked", N(t.Sent) + " / " + N(t.Acked));
        Row(html, "telemetry ingested by hub", t.Ingested is { } i ? N(i) : "not reported by this hub");
        Row(html, "lost / duplicated", t.Lost is null ? "not reported" : N(t.Lost.Value) + " / " + N(t.Duplicated ?? 0));
        if (report.Generator is { } g)
        {
            Row(html, "generator send lag p50 / p99 / max (ms)", F(g.SendLag.P50) + " / " + F(g.SendLag.P99) + " / " + F(g.SendLag.Max));
            Row(html, "generator-limited (messages too late to make)", g.Limited ? "yes: " + N(g.Skipped) : "no");
        }

        var failedThresholds = report.Thresholds.Count(static r => r.Failed);
        var notEvaluated = report.Thresholds.Count(static r => !r.Evaluated);
        Row(html, "thresholds failed", $"{failedThresholds} of {report.Thresholds.Count}" + (notEvaluated > 0 ? $" ({notEvaluated} not evaluated: too few samples)" : ""));
        html.Append("</table>\n");
    }

    private static void Operations(StringBuilder html, RunReport report)
    {
        html.Append("<h2>Operations (latency in ms)</h2>\n<table><tr><th class=\"l\">operation</th><th>ok</th><th>failed</th>")
            .Append("<th>error rate</th><th>ok/s</th><th>p50</th><th>p75</th><th>p90</th><th>p95</th><th>p99</th>")
            .Append("<th>p99.9</th><th>max</th><th>mean</th><th>stddev</th></tr>\n");
        var failures = new List<(string Op, string Reason, long Count)>();
        foreach (var (name, op) in report.Latency)
        {
            if (op.Count + op.Failed == 0)
            {
                continue;
            }

            html.Append("<tr><td class=\"l\">").Append(E(name)).Append("</td><td>").Append(N(op.Count))
                .Append("</td><td").Append(op.Failed > 0 ? " class=\"bad\">" : ">").Append(N(op.Failed))
                .Append("</td><td>").Append(F(op.ErrorRate * 100)).Append(" %</td><td>").Append(F(op.Throughput));
            foreach (var v in (double[])[op.P50, op.P75, op.P90, op.P95, op.P99, op.P999, op.Max, op.Mean, op.StdDev])
            {
                html.Append("</td><td>").Append(F(v));
            }

            html.Append("</td></tr>\n");
            failures.AddRange(op.Failures.Select(f => (name, f.Key, f.Value)));
        }

        html.Append("</table>\n");
        if (failures.Count > 0)
        {
            html.Append("<h3>Failures by reason</h3>\n<table><tr><th class=\"l\">operation</th><th class=\"l\">reason</th><th>count</th></tr>\n");
            foreach (var (op, reason, count) in failures)
            {
                html.Append("<tr><td class=\"l\">").Append(E(op)).Append("</td><td class=\"l\">").Append(E(reason))
                    .Append("</td><td>").Append(N(count)).Append("</td></tr>\n");
            }

            html.Append("</table>\n");
        }
    }

    private static void ComparisonSection(StringBuilder html, ComparisonResult comparison)
    {
        html.Append("<h2>Comparison with baseline</h2>\n<p>")
            .Append(comparison.HasRegressions
                ? $"<span class=\"bad\">{comparison.Regressions.Count} regression(s)</span>"
                : "<span class=\"good\">no regressions</span>")
            .Append(" against baseline ").Append(E(comparison.BaselineName)).Append(" (")
            .Append(E(comparison.BaselineStart.ToString("u", CultureInfo.InvariantCulture))).Append(")</p>\n")
            .Append("<table><tr><th class=\"l\">metric</th><th>baseline</th><th>current</th><th>delta</th><th>delta %</th><th>limit</th><th class=\"l\">verdict</th></tr>\n");
        foreach (var row in comparison.Rows)
        {
            html.Append("<tr><td class=\"l\">").Append(E(row.Metric)).Append("</td><td>").Append(F(row.Baseline))
                .Append("</td><td>").Append(F(row.Current)).Append("</td><td>").Append(F(row.Delta))
                .Append("</td><td>").Append(row.RelativeDelta is { } r ? F(r * 100) + " %" : "n/a")
                .Append("</td><td>").Append(row.Limit is { } l ? F(l * 100) + " %" : "")
                .Append("</td><td class=\"l").Append(row.Regression ? " bad\">regression" : "\">ok").Append("</td></tr>\n");
        }

        html.Append("</table>\n");
    }

    private static void Groups(StringBuilder html, RunReport report)
    {
        if (report.Devices.Groups.Count == 0)
        {
            return;
        }

        html.Append("<h2>Device groups</h2>\n<table><tr><th class=\"l\">group</th><th>target</th><th>connected peak</th>")
            .Append("<th>telemetry sent</th><th>acked</th><th>dropped</th><th>re-sent</th><th>errors</th></tr>\n");
        foreach (var g in report.Devices.Groups)
        {
            html.Append("<tr><td class=\"l\">").Append(E(g.Name)).Append("</td><td>").Append(N(g.Target))
                .Append("</td><td>").Append(N(g.ConnectedPeak)).Append("</td><td>").Append(N(g.TelemetrySent))
                .Append("</td><td>").Append(N(g.TelemetryAcked)).Append("</td><td>").Append(N(g.TelemetryDropped))
                .Append("</td><td>").Append(N(g.TelemetryResent)).Append("</td><td>").Append(N(g.Errors)).Append("</td></tr>\n");
        }

        html.Append("</table>\n");
    }

    private static void Faults(StringBuilder html, RunReport report)
    {
        if (report.Faults.Count == 0)
        {
            return;
        }

        html.Append("<h2>Faults injected</h2>\n<table><tr><th>at (s)</th><th class=\"l\">result</th><th class=\"l\">what happened</th></tr>\n");
        foreach (var f in report.Faults)
        {
            html.Append("<tr><td>").Append(F(f.AtSeconds));
            if (f.AppliedLate)
                html.Append(" (applied at ").Append(F(f.EffectiveSeconds)).Append(')');
            html.Append("</td><td class=\"l ")
                .Append(f.Applied ? "good\">applied" : "bad\">failed").Append("</td><td class=\"l\">").Append(E(f.Description)).Append("</td></tr>\n");
        }

        html.Append("</table>\n<p class=\"meta\">Each fault is also marked on the charts above (\"fault injected\"), when it took effect; "
            + "a fault applied later than planned (a late tick on a loaded machine) shows both moments, and its recovery counts from the later one.</p>\n");
    }

    /// <summary>Per-node table and node events of a multi-process run.</summary>
    private static void ClusterNodes(StringBuilder html, RunReport report)
    {
        if (report.Cluster is not { } cluster)
        {
            return;
        }

        html.Append("<h2>Worker nodes</h2>\n<table><tr><th class=\"l\">node</th><th>devices (peak)</th><th>connects</th><th>acked msg/s</th>")
            .Append("<th>errors</th><th>CPU % (mean)</th><th>CPU % (peak)</th><th>RSS peak (MB)</th></tr>\n");
        foreach (var n in cluster.Nodes)
        {
            html.Append("<tr><td class=\"l\">").Append(E(n.Name)).Append("</td><td>").Append(N(n.DevicesPeak)).Append("</td><td>")
                .Append(N(n.Connects)).Append("</td><td>").Append(F(n.MessagesPerSecond)).Append("</td><td>").Append(N(n.Errors))
                .Append("</td><td>").Append(F(n.CpuPercentMean)).Append("</td><td>").Append(F(n.CpuPercentPeak)).Append("</td><td>")
                .Append(F(n.RssPeakBytes / 1048576.0)).Append("</td></tr>\n");
        }

        html.Append("</table>\n");
        if (cluster.Events.Count == 0)
        {
            return;
        }

        html.Append("<h3>Node events</h3>\n<table><tr><th>at (s)</th><th class=\"l\">event</th><th class=\"l\">node</th><th>devices affected</th>")
            .Append("<th>recovered</th><th>outage median (s)</th><th>outage max (s)</th><th>telemetry not sent</th><th>unacked at loss</th>")
            .Append("<th class=\"l\">what happened</th></tr>\n");
        foreach (var e in cluster.Events)
        {
            html.Append("<tr><td>").Append(F(e.AtSeconds)).Append("</td><td class=\"l\">").Append(E(e.Kind)).Append("</td><td class=\"l\">")
                .Append(E(e.Node)).Append("</td><td>").Append(N(e.DevicesAffected)).Append("</td><td>").Append(N(e.DevicesRecovered))
                .Append("</td><td>").Append(e.OutageSecondsMedian is { } m ? F(m) : "-").Append("</td><td>")
                .Append(e.OutageSecondsMax is { } x ? F(x) : "-").Append("</td><td>").Append(N(e.TelemetryNotSent)).Append("</td><td>")
                .Append(N(e.UnacknowledgedAtLoss)).Append("</td><td class=\"l\">").Append(E(e.Description)).Append("</td></tr>\n");
        }

        html.Append("</table>\n");
    }

    private static void Thresholds(StringBuilder html, RunReport report)
    {
        html.Append("<h2>Thresholds</h2>\n");
        if (report.Thresholds.Count == 0)
        {
            html.Append("<p>No thresholds were set.</p>\n");
            return;
        }

        html.Append("<table><tr><th class=\"l\">name</th><th class=\"l\">expression</th><th>actual</th><th class=\"l\">result</th></tr>\n");
        foreach (var t in report.Thresholds)
        {
            html.Append("<tr><td class=\"l\">").Append(E(t.Name)).Append("</td><td class=\"l\">").Append(E(t.Expression))
                .Append("</td><td>").Append(t.Actual is { } a ? F(a) : "n/a").Append("</td><td class=\"l ")
                .Append(t.Status switch
                {
                    ThresholdStatuses.Passed => "good\">passed",
                    ThresholdStatuses.Failed => "bad\">failed" + (t.Note is { } why ? ": " + E(why) : ""),
                    _ => "\">" + E(ThresholdStatuses.Describe(t)),
                }).Append("</td></tr>\n");
        }

        html.Append("</table>\n");
    }

    private static void Ingest(StringBuilder html, TelemetrySection t)
    {
        html.Append("<h2>Ingest accounting</h2>\n<table>");
        Row(html, "sent by devices", N(t.Sent));
        Row(html, "acknowledged by hub (PUBACK)", N(t.Acked));
        Row(html, "dropped by devices (queue full or disconnected)", N(t.Dropped));
        Row(html, "ingested by hub", Opt(t.Ingested));
        Row(html, "lost (sequence gaps)", Opt(t.Lost));
        Row(html, "duplicated", Opt(t.Duplicated));
        Row(html, "out of order", Opt(t.OutOfOrder));
        html.Append("</table>\n");
    }

    private static void Environment(StringBuilder html, EnvironmentSection env)
    {
        html.Append("<h2>Environment</h2>\n<table>");
        Row(html, "machine", E(env.MachineName));
        Row(html, "OS", E(env.Os));
        Row(html, "cores", N(env.Cores));
        Row(html, ".NET", E(env.DotnetVersion));
        Row(html, "FleetSim", E(env.FleetSimVersion));
        Row(html, "warnings", env.Warnings.Count == 0 ? "none" : string.Join("<br>", env.Warnings.Select(E)));
        html.Append("</table>\n");
    }

    /// <summary>A label/value row; <paramref name="valueHtml"/> must already be encoded.</summary>
    private static void Row(StringBuilder html, string label, string valueHtml) =>
        html.Append("<tr><th class=\"l\">").Append(E(label)).Append("</th><td>").Append(valueHtml).Append("</td></tr>\n");

    private static string VerdictClass(string verdict) => verdict switch
    {
        Verdicts.Passed => "passed",
        Verdicts.Failed => "failed",
        Verdicts.Error => "error",
        _ => "other",
    };

    private static string Opt(long? value) => value is { } v ? N(v) : "not reported by this hub";

    private static string E(string text) => HtmlEncoder.Default.Encode(text);

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string F(double value) =>
        double.IsFinite(value) ? value.ToString("0.###", CultureInfo.InvariantCulture) : "n/a";
}
