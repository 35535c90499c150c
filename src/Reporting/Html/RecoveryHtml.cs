using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Plotly.NET;
using Plotly.NET.CSharp;
using Chart = Plotly.NET.CSharp.Chart;

namespace FleetSim.Reporting;

/// <summary>The HTML report's recovery-after-faults section (a row per fault and the reconnect storm chart) and twin convergence.</summary>
internal static class RecoveryHtml
{
    public static void Recovery(StringBuilder html, RunReport report)
    {
        var rows = report.Faults.Where(static f => f.Recovery is not null).ToList();
        if (rows.Count == 0 || report.Recovery is not { } all)
            return;

        html.Append("<h2>Recovery after faults</h2>\n<p>")
            .Append($"{N(all.DevicesAffected)} devices lost their connection to {N(all.Faults)} faults; {N(all.DevicesRecovered)} came back, ")
            .Append("recovery p50 ").Append(S(all.P50)).Append(" s, p99 ").Append(S(all.P99)).Append(" s, max ").Append(S(all.Max)).Append(" s; ")
            .Append(N(all.NeverReconnected)).Append(" never reconnected");
        if (all.NeverReconnectedIds.Count > 0)
            html.Append(" (").Append(E(string.Join(", ", all.NeverReconnectedIds))).Append(all.NeverReconnected > all.NeverReconnectedIds.Count ? ", ..." : "").Append(')');
        html.Append(".</p>\n<table><tr><th>at (s)</th><th class=\"l\">fault</th><th>affected</th><th>recovered</th><th>p50 (s)</th><th>p99 (s)</th>")
            .Append("<th>max (s)</th><th>whole again after (s)</th><th>connects/s peak (limit)</th><th class=\"l\">retries by reason</th>")
            .Append("<th>queued / re-sent / dropped</th><th>hub lost / dup / ooo</th><th class=\"l\">never reconnected</th></tr>\n");
        foreach (var f in rows)
        {
            var r = f.Recovery!;
            html.Append("<tr><td>").Append(F(f.AtSeconds)).Append("</td><td class=\"l\">").Append(E(f.Description)).Append("</td><td>")
                .Append(N(r.DevicesAffected)).Append("</td><td>").Append(N(r.DevicesRecovered)).Append("</td><td>").Append(S(r.P50))
                .Append("</td><td>").Append(S(r.P99)).Append("</td><td>").Append(S(r.Max)).Append("</td><td>")
                .Append(r.WholeAgainAfterSeconds is { } w ? F(w) : r.DevicesAffected == 0 ? "-" : "<span class=\"bad\">not whole</span>").Append("</td><td>")
                .Append(F(r.ConnectAttemptsPeakPerSecond)).Append(r.ConnectLimitPerSecond is { } l ? $" ({F(l)}, {N(r.SecondsOverConnectLimit)} s over)" : "")
                .Append("</td><td class=\"l\">").Append(E(string.Join(", ", r.RetriesByReason.Select(static p => $"{p.Key} {p.Value}"))))
                .Append("</td><td>").Append(N(r.TelemetryQueuedOffline)).Append(" / ").Append(N(r.TelemetryResent)).Append(" / ").Append(N(r.TelemetryDropped))
                .Append("</td><td>").Append(r.HubLost is null ? "not reported" : $"{N(r.HubLost.Value)} / {N(r.HubDuplicated ?? 0)} / {N(r.HubOutOfOrder ?? 0)}")
                .Append("</td><td class=\"l").Append(r.NeverReconnected > 0 ? " bad\">" : "\">").Append(N(r.NeverReconnected));
            if (r.NeverReconnectedIds.Count > 0)
                html.Append(": ").Append(E(string.Join(", ", r.NeverReconnectedIds)));
            html.Append("</td></tr>\n");
        }

        html.Append("</table>\n<p class=\"meta\">Times are seconds from the fault's start. Recovery: from the fault's start to each affected device's reconnect (its last, when it lost the ")
            .Append("connection again in the window). Affected: lost its connection between the fault's start and its end plus the attribution window; ")
            .Append("devices a ramp-down stopped before they reconnected are not counted. Counts of the window run to the moment the fleet was whole ")
            .Append("again (or the next fault, or the stop) and are fleet-wide.</p>\n");
        if (StormChart(rows) is { } chart)
            html.Append("<h3>Reconnect storms: connect attempts per second</h3>\n").Append(chart).Append('\n');
    }

    public static void Convergence(StringBuilder html, RunReport report)
    {
        if (report.Convergence is not { } c)
            return;
        html.Append("<h2>Twin convergence at the end</h2>\n<table>");
        Row(html, "devices checked", N(c.Checked));
        Row(html, "diverged", (c.Diverged > 0 ? "<span class=\"bad\">" : "<span class=\"good\">") + N(c.Diverged) + "</span>");
        Row(html, "reported properties differ at the hub", N(c.ReportedDiverged));
        Row(html, "latest desired version not applied", N(c.DesiredBehind));
        Row(html, "could not check (not connected, no answer)", N(c.Unchecked) + (c.UncheckedIds.Count > 0 ? ": " + E(string.Join(", ", c.UncheckedIds)) : ""));
        html.Append("</table>\n");
        if (c.Offenders.Count == 0)
            return;
        html.Append("<table><tr><th class=\"l\">device</th><th class=\"l\">problem</th></tr>\n");
        foreach (var o in c.Offenders)
            html.Append("<tr><td class=\"l\">").Append(E(o.DeviceId)).Append("</td><td class=\"l\">").Append(E(o.Problem)).Append("</td></tr>\n");
        html.Append("</table>\n");
    }

    /// <summary>One line per fault with a storm, and the hub's connect limit when known.</summary>
    private static string? StormChart(List<FaultRecord> faults)
    {
        var traces = new List<GenericChart>();
        double? limit = null;
        foreach (var f in faults)
        {
            var r = f.Recovery!;
            limit ??= r.ConnectLimitPerSecond;
            if (r.Storm.Count == 0)
                continue;
            traces.Add(Chart.Line<double, long, string>(r.Storm.Select(static p => p.Seconds), r.Storm.Select(static p => p.Attempts),
                Name: $"fault at {F(f.AtSeconds)} s", ShowMarkers: r.Storm.Count <= 300));
        }

        if (traces.Count == 0)
            return null;
        if (limit is { } l)
        {
            var xs = faults.SelectMany(static f => f.Recovery!.Storm).Select(static p => p.Seconds).ToArray();
            traces.Add(Chart.Line<double, double, string>([xs.Min(), xs.Max()], [l, l], Name: "hub connect limit"));
        }

        var chart = Chart.Combine(traces)
            .WithXAxisStyle<double, double, string>(TitleText: "seconds since the fault")
            .WithYAxisStyle<double, double, string>(TitleText: "connect attempts per second");
        return ReportCharts.ToHtml(chart);
    }

    private static void Row(StringBuilder html, string label, string valueHtml) =>
        html.Append("<tr><th class=\"l\">").Append(E(label)).Append("</th><td>").Append(valueHtml).Append("</td></tr>\n");

    /// <summary>Milliseconds shown as seconds.</summary>
    private static string S(double? ms) => ms is { } v ? (v / 1000).ToString("0.###", CultureInfo.InvariantCulture) : "-";

    private static string E(string text) => HtmlEncoder.Default.Encode(text);

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string F(double value) => double.IsFinite(value) ? value.ToString("0.###", CultureInfo.InvariantCulture) : "n/a";
}
