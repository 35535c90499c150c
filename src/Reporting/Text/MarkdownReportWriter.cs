using System.Globalization;
using System.Text;

using FleetSim.Metrics;

namespace FleetSim.Reporting;

/// <summary>summary.md: a short Markdown summary for CI job pages (e.g. $GITHUB_STEP_SUMMARY).</summary>
public static class MarkdownReportWriter
{
    public static void Write(RunReport report, string path, ComparisonResult? comparison = null) =>
        File.WriteAllText(path, Render(report, comparison), new UTF8Encoding(false));

    public static string Render(RunReport report, ComparisonResult? comparison = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        var md = new StringBuilder();
        var run = report.Run;
        var t = report.Telemetry;
        md.Append("# FleetSim: ").Append(Cell(report.Scenario.Name)).Append("\n\n")
            .Append("**Verdict: ").Append(Cell(run.Verdict)).Append("** · duration ").Append(F(run.DurationSeconds))
            .Append(" s · hub ").Append(Cell(run.HubKind)).Append(" · exit ").Append(Cell(run.ExitReason)).Append("\n\n");
        foreach (var warning in report.Environment.Warnings)
        {
            md.Append("> Warning: ").Append(Cell(warning)).Append('\n');
        }

        md.Append("\n| devices (target / peak) | sent | acked | ingested | lost | duplicated | out of order | dropped |\n")
            .Append("|---:|---:|---:|---:|---:|---:|---:|---:|\n")
            .Append("| ").Append(N(report.Devices.Target)).Append(" / ").Append(N(report.Devices.ConnectedPeak))
            .Append(" | ").Append(N(t.Sent)).Append(" | ").Append(N(t.Acked)).Append(" | ").Append(Opt(t.Ingested))
            .Append(" | ").Append(Opt(t.Lost)).Append(" | ").Append(Opt(t.Duplicated)).Append(" | ").Append(Opt(t.OutOfOrder))
            .Append(" | ").Append(N(t.Dropped)).Append(" |\n\n");

        md.Append("| operation | ok | failed | ok/s | p50 ms | p95 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var (name, op) in report.Latency)
        {
            if (op.Count + op.Failed == 0)
            {
                continue;
            }

            md.Append("| ").Append(Cell(name)).Append(" | ").Append(N(op.Count)).Append(" | ").Append(N(op.Failed))
                .Append(" | ").Append(F(op.Throughput)).Append(" | ").Append(F(op.P50)).Append(" | ").Append(F(op.P95))
                .Append(" | ").Append(F(op.P99)).Append(" | ").Append(F(op.Max)).Append(" |\n");
        }

        var failures = report.Latency.SelectMany(static o => o.Value.Failures.Select(f => (Op: o.Key, f.Key, f.Value))).ToList();
        if (failures.Count > 0)
        {
            md.Append("\n| operation | failure reason | count |\n|---|---|---:|\n");
            foreach (var (op, reason, count) in failures)
            {
                md.Append("| ").Append(Cell(op)).Append(" | ").Append(Cell(reason)).Append(" | ").Append(N(count)).Append(" |\n");
            }
        }

        if (report.Faults.Count > 0)
        {
            md.Append("\n| fault at (s) | result | what happened |\n|---:|---|---|\n");
            foreach (var f in report.Faults)
            {
                md.Append("| ").Append(F(f.AtSeconds)).Append(f.AppliedLate ? $" (applied at {F(f.EffectiveSeconds)})" : "")
                    .Append(" | ").Append(f.Applied ? "applied" : "**failed**").Append(" | ").Append(Cell(f.Description)).Append(" |\n");
            }
        }

        Recovery(md, report);
        Convergence(md, report);

        if (report.Cluster is { } cluster)
        {
            md.Append("\n| node | devices (peak) | connects | acked msg/s | errors | CPU % (mean) | RSS peak (MB) |\n|---|---:|---:|---:|---:|---:|---:|\n");
            foreach (var n in cluster.Nodes)
            {
                md.Append("| ").Append(Cell(n.Name)).Append(" | ").Append(n.DevicesPeak).Append(" | ").Append(n.Connects).Append(" | ")
                    .Append(F(n.MessagesPerSecond)).Append(" | ").Append(n.Errors).Append(" | ").Append(F(n.CpuPercentMean)).Append(" | ")
                    .Append(F(n.RssPeakBytes / 1048576.0)).Append(" |\n");
            }

            foreach (var e in cluster.Events)
            {
                md.Append("\n- node event at ").Append(F(e.AtSeconds)).Append(" s: ").Append(Cell(e.Description)).Append('\n');
            }
        }

        if (report.Thresholds.Count > 0)
        {
            md.Append("\n| threshold | expression | actual | result |\n|---|---|---:|---|\n");
            foreach (var th in report.Thresholds)
            {
                md.Append("| ").Append(Cell(th.Name)).Append(" | ").Append(Cell(th.Expression)).Append(" | ")
                    .Append(th.Actual is { } a ? F(a) : "n/a").Append(" | ").Append(th.Failed ? "**failed**" : Cell(ThresholdStatuses.Describe(th))).Append(" |\n");
            }
        }

        if (comparison is not null)
        {
            Comparison(md, comparison);
        }

        return md.ToString();
    }

    /// <summary>A recovery row per applied fault, the run-wide recovery line and the devices that never came back.</summary>
    private static void Recovery(StringBuilder md, RunReport report)
    {
        if (report.Recovery is not { } all)
            return;
        md.Append("\n| recovery of fault at (s) | affected | recovered | p50 (s) | p99 (s) | max (s) | whole again after (s) | connects/s peak (limit) | queued / re-sent / dropped | hub lost / dup | never reconnected |\n")
            .Append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var f in report.Faults)
        {
            if (f.Recovery is not { } r)
                continue;
            md.Append("| ").Append(F(f.AtSeconds)).Append(" | ").Append(N(r.DevicesAffected)).Append(" | ").Append(N(r.DevicesRecovered)).Append(" | ")
                .Append(Seconds(r.P50)).Append(" | ").Append(Seconds(r.P99)).Append(" | ").Append(Seconds(r.Max)).Append(" | ")
                .Append(r.WholeAgainAfterSeconds is { } w ? F(w) : r.DevicesAffected == 0 ? "-" : "**not whole**").Append(" | ")
                .Append(F(r.ConnectAttemptsPeakPerSecond)).Append(r.ConnectLimitPerSecond is { } l ? " (" + F(l) + ")" : "").Append(" | ")
                .Append(N(r.TelemetryQueuedOffline)).Append(" / ").Append(N(r.TelemetryResent)).Append(" / ").Append(N(r.TelemetryDropped)).Append(" | ")
                .Append(r.HubLost is null ? "n/a" : N(r.HubLost.Value) + " / " + N(r.HubDuplicated ?? 0)).Append(" | ")
                .Append(r.NeverReconnected > 0 ? "**" + N(r.NeverReconnected) + "**" : "0").Append(" |\n");
        }

        md.Append("\nRecovery over ").Append(N(all.Faults)).Append(" faults: ").Append(N(all.DevicesAffected)).Append(" devices affected, p50 ")
            .Append(Seconds(all.P50)).Append(" s, p99 ").Append(Seconds(all.P99)).Append(" s, max ").Append(Seconds(all.Max)).Append(" s; ")
            .Append(N(all.NeverReconnected)).Append(" never reconnected");
        if (all.NeverReconnectedIds.Count > 0)
            md.Append(": ").Append(Cell(string.Join(", ", all.NeverReconnectedIds))).Append(all.NeverReconnected > all.NeverReconnectedIds.Count ? ", ..." : "");
        md.Append(".\n");
    }

    private static void Convergence(StringBuilder md, RunReport report)
    {
        if (report.Convergence is not { } c)
            return;
        md.Append("\nTwin convergence at the end: ").Append(N(c.Checked)).Append(" checked, ").Append(c.Diverged > 0 ? "**" + N(c.Diverged) + " diverged**" : "0 diverged")
            .Append(" (reported differs ").Append(N(c.ReportedDiverged)).Append(", desired not applied ").Append(N(c.DesiredBehind)).Append("), ")
            .Append(N(c.Unchecked)).Append(" could not check.\n");
        foreach (var o in c.Offenders)
            md.Append("- ").Append(Cell(o.DeviceId)).Append(": ").Append(Cell(o.Problem)).Append('\n');
    }

    private static string Seconds(double? ms) => ms is { } v ? F(v / 1000) : "-";

    private static void Comparison(StringBuilder md, ComparisonResult comparison)
    {
        md.Append("\n## Comparison with baseline ").Append(Cell(comparison.BaselineName)).Append("\n\n")
            .Append(comparison.HasRegressions ? $"**{comparison.Regressions.Count} regression(s)**\n\n" : "No regressions.\n\n")
            .Append("| metric | baseline | current | delta | delta % | limit | |\n|---|---:|---:|---:|---:|---:|---|\n");
        foreach (var row in comparison.Rows)
        {
            md.Append("| ").Append(Cell(row.Metric)).Append(" | ").Append(F(row.Baseline)).Append(" | ").Append(F(row.Current))
                .Append(" | ").Append(F(row.Delta)).Append(" | ").Append(row.RelativeDelta is { } r ? F(r * 100) + " %" : "n/a")
                .Append(" | ").Append(row.Limit is { } l ? F(l * 100) + " %" : "").Append(" | ")
                .Append(row.Regression ? "**regression**" : "ok").Append(" |\n");
        }
    }

    /// <summary>Text safe in a table cell: no pipes, line breaks or raw HTML.</summary>
    public static string Cell(string text) => text
        .Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal)
        .Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Opt(long? value) => value is { } v ? N(v) : "n/a";

    private static string F(double value) =>
        double.IsFinite(value) ? value.ToString("0.###", CultureInfo.InvariantCulture) : "n/a";
}
