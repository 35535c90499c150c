using System.Text.RegularExpressions;

using FleetSim.Metrics;

namespace FleetSim.Reporting.Tests.Html;

public sealed partial class HtmlReportWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-html-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Page_references_nothing_on_the_network()
    {
        var html = HtmlReportWriter.Render(SampleReports.Known());

        // Script elements load nothing; outside script bodies (the library mentions URLs in its strings) the
        // markup has no remote address at all.
        Assert.All(ScriptTag().Matches(html), tag => Assert.DoesNotContain("src", tag.Value, StringComparison.OrdinalIgnoreCase));
        var markup = ScriptBody().Replace(html, "<script></script>");
        Assert.DoesNotContain("http://", markup, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://", markup, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", markup, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Plotly_js_is_inlined_exactly_once()
    {
        var html = HtmlReportWriter.Render(SampleReports.Known());

        // The library's banner comment and its global definition appear once, however many charts there are.
        Assert.Single(Regex.Matches(html, @"plotly\.js v\d+\.\d+\.\d+"));
        Assert.True(Regex.Matches(html, "Plotly.newPlot").Count >= 5);
        Assert.True(html.Length > 3_000_000, "the full library is inlined");
    }

    [Fact]
    public void Charts_carry_the_report_data()
    {
        var html = HtmlReportWriter.Render(SampleReports.Known(seconds: 3));

        Assert.Contains("\"name\":\"sent msg/s\"", html, StringComparison.Ordinal);
        Assert.Contains("\"y\":[101.0,101.0,101.0]", html, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"asked msg/s\"", html, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"connect/throttled\"", html, StringComparison.Ordinal);
        Assert.Contains("Latency over time: telemetry", html, StringComparison.Ordinal);
        Assert.Contains("Latency distribution by operation", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Script_in_user_strings_is_encoded_everywhere()
    {
        const string Evil = "<script>alert(1)</script>";
        var report = SampleReports.Known(name: Evil, text: "name: x\n# " + Evil);
        var connect = report.Latency[Operations.Connect];
        report = report with
        {
            Latency = new Dictionary<string, OperationReport>(report.Latency)
            {
                [Operations.Connect] = connect with { Failures = new Dictionary<string, long> { [Evil] = 2 } },
            },
            TimeSeries = [.. report.TimeSeries.Select(p => p with { Errors = new Dictionary<string, long> { ["connect/" + Evil] = 1 } })],
            Thresholds = [new ThresholdResult(Evil, Evil, 1, false)],
        };

        var html = HtmlReportWriter.Render(report);

        Assert.DoesNotContain(Evil, html, StringComparison.Ordinal);
        Assert.DoesNotContain("alert(1)</script>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.Contains("<\\/script>", html, StringComparison.Ordinal); // inside chart data, cannot close the element
    }

    [Fact]
    public void Page_shows_header_tables_and_sections()
    {
        var html = HtmlReportWriter.Render(SampleReports.Known());

        Assert.Contains("<h1>quickstart</h1>", html, StringComparison.Ordinal);
        Assert.Contains("class=\"verdict passed\">passed<", html, StringComparison.Ordinal);
        Assert.Contains("hub embedded", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"l\">throttled</td>", html, StringComparison.Ordinal);
        Assert.Contains("p99 &lt; 200ms", html, StringComparison.Ordinal);
        Assert.Contains("load generator saturated", html, StringComparison.Ordinal);
        Assert.Contains("<h2>Ingest accounting</h2>", html, StringComparison.Ordinal);
        Assert.Contains("count: 5", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Comparison with baseline", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Injected_faults_are_listed_and_marked_on_the_time_charts()
    {
        var report = ReportBuilder.Build(SampleReports.KnownMetrics(), SampleReports.Inputs() with
        {
            Faults = [new FaultRecord(4, "dropped <all> connections", true), new FaultRecord(7, "failed: hub gone", false)],
        });
        var html = HtmlReportWriter.Render(report);

        Assert.Contains("<h2>Faults injected</h2>", html, StringComparison.Ordinal);
        Assert.Contains("dropped &lt;all&gt; connections", html, StringComparison.Ordinal);
        Assert.Contains("class=\"l bad\">failed</td>", html, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"fault injected\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<h2>Faults injected</h2>", HtmlReportWriter.Render(SampleReports.Known()), StringComparison.Ordinal);

        var md = MarkdownReportWriter.Render(report);
        Assert.Contains("| 4 | applied | dropped &lt;all&gt; connections |", md, StringComparison.Ordinal);
        Assert.Contains("| 7 | **failed** | failed: hub gone |", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Fault_markers_sit_on_the_time_axis_of_the_run_not_of_the_scenario()
    {
        // The scenario's clock (fault at:) starts after registration, 8.5 s into the run; the charts count from the run's start.
        var inputs = SampleReports.Inputs();
        var report = ReportBuilder.Build(SampleReports.KnownMetrics(), inputs with
        {
            Run = inputs.Run with { ScenarioStartSeconds = 8.5 },
            Faults = [new FaultRecord(4, "dropped 3 connections", true), new FaultRecord(7, "failed: hub gone", false)],
        });

        var html = HtmlReportWriter.Render(report);
        var json = System.Text.Json.JsonDocument.Parse(ReportJson.Serialize(report)).RootElement;

        var markers = FaultMarkers().Matches(html);
        Assert.NotEmpty(markers);
        Assert.All(markers, m => Assert.Equal("12.5,15.5", m.Groups[1].Value));
        Assert.Equal(8.5, json.GetProperty("run").GetProperty("scenarioStartSeconds").GetDouble());
        Assert.Equal(4, json.GetProperty("faults")[0].GetProperty("atSeconds").GetDouble()); // the scenario's clock, as in the scenario file
        Assert.Contains("| 4 | applied | dropped 3 connections |", MarkdownReportWriter.Render(report), StringComparison.Ordinal);
    }

    [Fact]
    public void A_fault_applied_late_is_drawn_when_it_took_effect_and_listed_with_both_moments()
    {
        var inputs = SampleReports.Inputs();
        var report = ReportBuilder.Build(SampleReports.KnownMetrics(), inputs with
        {
            Run = inputs.Run with { ScenarioStartSeconds = 8.5 },
            Faults =
            [
                new FaultRecord(4, "dropped 3 connections", true) { AppliedAtSeconds = 6.25 }, // the tick came 2.25 s late
                new FaultRecord(7, "dropped 1 connection", true) { AppliedAtSeconds = 7.0625 }, // within a tick: not worth a mention
            ],
        });

        var html = HtmlReportWriter.Render(report);
        var json = System.Text.Json.JsonDocument.Parse(ReportJson.Serialize(report)).RootElement;
        var md = MarkdownReportWriter.Render(report);

        Assert.All(FaultMarkers().Matches(html), m => Assert.Equal("14.75,15.5625", m.Groups[1].Value));
        Assert.Contains("<tr><td>4 (applied at 6.25)</td>", html, StringComparison.Ordinal);
        Assert.Contains("<tr><td>7</td>", html, StringComparison.Ordinal);
        Assert.Contains("| 4 (applied at 6.25) | applied | dropped 3 connections |", md, StringComparison.Ordinal);
        Assert.Contains("| 7 | applied | dropped 1 connection |", md, StringComparison.Ordinal);
        Assert.Equal(4, json.GetProperty("faults")[0].GetProperty("atSeconds").GetDouble());
        Assert.Equal(6.25, json.GetProperty("faults")[0].GetProperty("appliedAtSeconds").GetDouble());
    }

    [Fact]
    public void A_threshold_not_evaluated_is_shown_as_such_with_its_reason_and_counted_apart_from_failures()
    {
        var report = ReportBuilder.Build(SampleReports.KnownMetrics(), SampleReports.Inputs() with
        {
            Thresholds =
            [
                new ThresholdResult("methodRoundTrip", "p99 < 300ms", 412, false) { Evaluated = false, Note = "not enough samples (25 < 100)" },
                new ThresholdResult("methodRoundTrip", "errorRate < 1%", 0, true),
            ],
        });

        var html = HtmlReportWriter.Render(report);
        var md = MarkdownReportWriter.Render(report);
        var json = System.Text.Json.JsonDocument.Parse(ReportJson.Serialize(report)).RootElement.GetProperty("thresholds");

        Assert.Contains("not evaluated: not enough samples (25 &lt; 100)", html, StringComparison.Ordinal);
        Assert.Contains("0 of 2 (1 not evaluated: too few samples)", html, StringComparison.Ordinal);
        Assert.Contains("| methodRoundTrip | p99 &lt; 300ms | 412 | not evaluated: not enough samples (25 &lt; 100) |", md, StringComparison.Ordinal);
        Assert.Equal("notEvaluated", json[0].GetProperty("status").GetString());
        Assert.False(json[0].GetProperty("evaluated").GetBoolean());
        Assert.Equal("not enough samples (25 < 100)", json[0].GetProperty("note").GetString());
        Assert.Equal("passed", json[1].GetProperty("status").GetString());
        var back = ReportJson.Parse(ReportJson.Serialize(report));
        Assert.False(back.Thresholds[0].Evaluated); // fleetsim report re-renders it the same way
        Assert.Equal("not enough samples (25 < 100)", back.Thresholds[0].Note);
    }

    [Fact]
    public void Long_series_are_downsampled_to_2000_points()
    {
        var report = SampleReports.Known(seconds: 3);
        var point = report.TimeSeries[0];
        report = report with
        {
            TimeSeries = [.. Enumerable.Range(1, 5000).Select(s => point with { Seconds = s, Connected = 7777 })],
        };

        var html = HtmlReportWriter.Render(report);

        var connected = Regex.Match(html, "\"name\":\"connected\",\"mode\":\"lines\",\"x\":\\[[^\\]]*\\],\"y\":\\[([^\\]]*)\\]");
        Assert.True(connected.Success);
        Assert.Equal(2000, connected.Groups[1].Value.Split(',').Length);
    }

    [Fact]
    public void Write_creates_the_file()
    {
        var path = Path.Combine(_dir, "out", "report.html");

        HtmlReportWriter.Write(SampleReports.Known(), path);

        Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(path), StringComparison.Ordinal);
    }

    [GeneratedRegex("\"name\":\"fault injected\"[^\\[]*\"x\":\\[([^\\]]*)\\]")]
    private static partial Regex FaultMarkers();

    [GeneratedRegex("<script\\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptTag();

    [GeneratedRegex("<script\\b[^>]*>.*?</script>", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex ScriptBody();
}
