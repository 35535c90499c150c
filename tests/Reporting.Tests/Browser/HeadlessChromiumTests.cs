using System.Diagnostics;
using System.Text.RegularExpressions;

using FleetSim.Metrics;

namespace FleetSim.Reporting.Tests.Browser;

/// <summary>
/// Renders report.html in a real headless Chromium with the network unavailable (every request goes to a dead
/// proxy) and checks that plotly drew every chart with its data. CI installs Debian's chromium
/// (`apt-get install -y chromium`); FLEETSIM_CHROMIUM names another binary. Without a browser the tests are skipped
/// (so `dotnet test` works on a fresh machine) except in CI (CI=true), where a missing browser is a failure.
/// </summary>
public sealed partial class HeadlessChromiumTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-browser-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public async Task Report_charts_draw_offline_in_headless_chromium()
    {
        var path = Path.Combine(_dir, "report.html");
        HtmlReportWriter.Write(SampleReports.Known(seconds: 20), path);
        var charts = Regex.Matches(File.ReadAllText(path), "var renderPlotly_").Count;

        var dom = await DumpDomAsync(path);

        Assert.True(charts >= 6, $"expected the report to have charts, found {charts}");
        Assert.Equal(charts, PlotContainer().Matches(dom).Count);
        Assert.True(DrawnLine().Matches(dom).Count >= charts, "every chart has at least one drawn line with data");
        Assert.Contains("sent msg/s", dom, StringComparison.Ordinal); // legend text rendered into the svg
    }

    [SkippableFact]
    public async Task A_page_needing_the_network_does_not_draw_so_the_check_is_real()
    {
        var path = Path.Combine(_dir, "remote.html");
        File.WriteAllText(path, """
            <!DOCTYPE html><html><head><script src="https://cdn.plot.ly/plotly-2.28.0.min.js"></script></head>
            <body><div id="c"></div><script>if (window.Plotly) { Plotly.newPlot('c', [{y: [1, 2]}]); }</script></body></html>
            """);

        var dom = await DumpDomAsync(path);

        Assert.Empty(PlotContainer().Matches(dom));
    }

    private async Task<string> DumpDomAsync(string htmlPath)
    {
        var chromium = FindChromium();
        Skip.If(chromium is null && Environment.GetEnvironmentVariable("CI") != "true",
            "Chromium is not installed: apt-get install -y chromium (or bash .ci/install-deps) to run the report browser test.");
        chromium = chromium
            ?? throw new InvalidOperationException(
                "Chromium is needed for the report browser test: apt-get install -y chromium (or set FLEETSIM_CHROMIUM).");
        var profile = Directory.CreateDirectory(Path.Combine(_dir, "profile-" + Guid.NewGuid().ToString("N"))).FullName;
        var start = new ProcessStartInfo(chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
            "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--virtual-time-budget=10000",
            "--dump-dom", new Uri(htmlPath).AbsoluteUri])
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("headless chromium did not finish within 90 s");
        }

        var dom = await stdout;
        Assert.True(process.ExitCode == 0, $"chromium exited with {process.ExitCode}: {await stderr}");
        return dom;
    }

    private static string? FindChromium()
    {
        if (Environment.GetEnvironmentVariable("FLEETSIM_CHROMIUM") is { Length: > 0 } configured)
        {
            return configured;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in (string[])["chromium", "chromium-browser", "google-chrome"])
            {
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    [GeneratedRegex("class=\"plot-container plotly\"")]
    private static partial Regex PlotContainer();

    [GeneratedRegex("class=\"js-line\"[^>]*d=\"M[0-9.,]+L")]
    private static partial Regex DrawnLine();
}
