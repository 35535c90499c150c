using Plotly.NET;
using Plotly.NET.CSharp;
using Chart = Plotly.NET.CSharp.Chart;

using FleetSim.Metrics;

namespace FleetSim.Reporting;

/// <summary>A drawn chart: its heading (plain text, encoded by the page) and its div+script HTML.</summary>
internal sealed record ChartFragment(string Title, string Html);

/// <summary>
/// Builds the report's Plotly charts as div+script fragments that reference no plotly.js: the page inlines the
/// library once. Series longer than <see cref="Downsampler.MaxPoints"/> are downsampled.
/// </summary>
internal static class ReportCharts
{
    private const int Width = 1000;
    private const int Height = 380;

    public static List<ChartFragment> Build(RunReport report)
    {
        var series = report.TimeSeries;
        var x = new double[series.Count];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = series[i].Seconds;
        }

        // Faults count on the scenario's clock, the time series from the run's start (which includes registration); each is
        // drawn when it took effect, which on a loaded machine is later than planned.
        var faultOffset = report.Run.ScenarioStartSeconds ?? 0;
        IReadOnlyList<FaultRecord> faults = [.. report.Faults.Select(f => f with { AtSeconds = f.EffectiveSeconds + faultOffset, AppliedAtSeconds = null })];
        var charts = new List<ChartFragment>
        {
            TimeChart(faults, "Connected devices", "devices", x, Downsampling.Mean, ConnectedLines(report)),
        };

        var rates = new List<(string, double[])>
        {
            ("sent msg/s", Column(series, static p => p.SentPerSecond)),
            ("acked msg/s", Column(series, static p => p.AckedPerSecond)),
        };
        if (series.Any(static p => p.AskedRate is not null))
        {
            rates.Add(("asked msg/s", Column(series, static p => p.AskedRate ?? double.NaN)));
        }

        charts.Add(TimeChart(faults, "Telemetry sent and acknowledged vs asked rate", "messages per second", x, Downsampling.Mean, [.. rates]));

        foreach (var (name, op) in report.Latency)
        {
            if (op.Count == 0)
            {
                continue;
            }

            charts.Add(TimeChart(faults, $"Latency over time: {name}", "milliseconds", x, Downsampling.Max,
                ("p50", Column(series, p => LatencyAt(p, name, 50))),
                ("p95", Column(series, p => LatencyAt(p, name, 95))),
                ("p99", Column(series, p => LatencyAt(p, name, 99)))));
        }

        var reasons = new SortedSet<string>(series.SelectMany(static p => p.Errors.Keys), StringComparer.Ordinal);
        if (reasons.Count > 0)
        {
            charts.Add(TimeChart(faults, "Errors by reason (operation/reason)", "errors per second", x, Downsampling.Mean,
                [.. reasons.Select(r => (r, Column(series, p => p.Errors.TryGetValue(r, out var n) ? n : 0)))]));
        }

        charts.Add(TimeChart(faults, "Reconnects and connections lost", "per second", x, Downsampling.Mean,
            ("reconnects", Column(series, static p => p.Reconnects)),
            ("connections lost", Column(series, static p => p.ConnectionsLost))));

        var distribution = DistributionChart(report);
        if (distribution is not null)
        {
            charts.Add(distribution);
        }

        return charts;
    }

    /// <summary>All connected devices, and in a multi-process run one line per worker node.</summary>
    private static (string, double[])[] ConnectedLines(RunReport report)
    {
        var lines = new List<(string, double[])> { ("connected", Column(report.TimeSeries, static p => p.Connected)) };
        foreach (var node in report.Cluster?.Connected ?? [])
        {
            var y = new double[report.TimeSeries.Count];
            for (var i = 0; i < y.Length && i < node.Connected.Count; i++)
            {
                y[i] = node.Connected[i];
            }

            lines.Add(("node " + node.Node, y));
        }

        return [.. lines];
    }

    /// <summary>The percentile curve of every operation that succeeded at least once.</summary>
    private static ChartFragment? DistributionChart(RunReport report)
    {
        var lines = new List<GenericChart>();
        foreach (var (name, op) in report.Latency)
        {
            // x = 1/(1-p) on a log axis spreads the tail: 2 = p50, 10 = p90, 100 = p99, 1000 = p99.9.
            var points = op.Distribution.Where(static d => d.Percentile < 100).ToArray();
            if (op.Count == 0 || points.Length == 0)
            {
                continue;
            }

            lines.Add(Chart.Line<double, double, string>(
                points.Select(static d => 1 / (1 - (d.Percentile / 100))),
                points.Select(static d => d.ValueMs),
                Name: name,
                ShowMarkers: true));
        }

        if (lines.Count == 0)
        {
            return null;
        }

        var chart = Chart.Combine(lines)
            .WithXAxisStyle<double, double, string>(
                TitleText: "1 / (1 - percentile): 2 = p50, 10 = p90, 100 = p99, 1000 = p99.9",
                AxisType: StyleParam.AxisType.Log)
            .WithYAxisStyle<double, double, string>(TitleText: "milliseconds");
        return new ChartFragment("Latency distribution by operation (percentile curve)", ToHtml(chart));
    }

    private static ChartFragment TimeChart(
        IReadOnlyList<FaultRecord> faults, string title, string yTitle, double[] x, Downsampling mode, params (string Name, double[] Y)[] lines)
    {
        var traces = new List<GenericChart>(lines.Length);
        foreach (var (name, y) in lines)
        {
            var (dx, dy) = Downsampler.Apply(x, y, mode);
            // Markers on short runs, so a lone point (e.g. connects in the first second only) is visible.
            traces.Add(Chart.Line<double, double, string>(dx, dy, Name: name, ShowMarkers: dx.Length <= 300));
        }

        if (faults.Count > 0)
        {
            // Each injected fault as a marker on the time axis, its description on hover.
            traces.Add(Chart.Point<double, double, string>(
                faults.Select(static f => f.AtSeconds), faults.Select(static _ => 0.0), Name: "fault injected",
                MarkerColor: Color.fromString("#b00020"), MarkerSymbol: StyleParam.MarkerSymbol.X,
                MultiText: new Optional<IEnumerable<string>>(faults.Select(static f => f.Description).ToArray(), true)));
        }

        var chart = Chart.Combine(traces)
            .WithXAxisStyle<double, double, string>(TitleText: "seconds since start")
            .WithYAxisStyle<double, double, string>(TitleText: yTitle);
        return new ChartFragment(title, ToHtml(chart));
    }

    private static double LatencyAt(TimePoint point, string operation, int percentile)
    {
        if (!point.Operations.TryGetValue(operation, out var op))
        {
            return double.NaN;
        }

        var value = percentile switch { 50 => op.P50, 95 => op.P95, _ => op.P99 };
        return value ?? double.NaN;
    }

    private static double[] Column(IReadOnlyList<TimePoint> series, Func<TimePoint, double> select)
    {
        var values = new double[series.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = select(series[i]);
        }

        return values;
    }

    /// <summary>Plotly.NET's div + script for the chart (no library reference), made safe to embed.</summary>
    internal static string ToHtml(GenericChart chart)
    {
        var html = GenericChart.toChartHTML(chart.WithSize(Width, Height));
        const string Open = "<script type=\"text/javascript\">";
        var start = html.IndexOf(Open, StringComparison.Ordinal);
        var end = html.LastIndexOf("</script>", StringComparison.Ordinal);
        if (start < 0 || end < start)
        {
            throw new InvalidOperationException("Plotly.NET produced chart HTML without the expected script element.");
        }

        start += Open.Length;
        return string.Concat(html.AsSpan(0, start), PlotlyScript.EscapeForScriptElement(html[start..end]), html.AsSpan(end));
    }
}
