using System.Net;
using System.Text;

namespace FleetSim.Simulator.Tests;

/// <summary>Live metrics leave the process while the run goes on: a Prometheus scrape endpoint and OTLP/HTTP pushes.</summary>
public sealed class MetricsExportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-otel-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_run_serves_prometheus_metrics_and_pushes_otlp_while_it_runs()
    {
        var prometheusPort = Ports.Free();
        var otlpPort = Ports.Free();
        using var collector = new HttpListener();
        collector.Prefixes.Add($"http://127.0.0.1:{otlpPort}/");
        collector.Start();
        var pushes = new List<(string ContentType, byte[] Body)>();
        var collecting = Task.Run(async () =>
        {
            while (collector.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await collector.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return; // the collector was stopped
                }

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                lock (pushes)
                    pushes.Add((context.Request.ContentType ?? "", body.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });

        var run = Fleetsim.RunAsync(TimeSpan.FromMinutes(2), _dir, "run", Path.Combine(Fleetsim.RepoRoot, "scenarios", "quickstart.yaml"),
            "--scale", "0.1", "--duration", "12s", "--out", Path.Combine(_dir, "out"), "--quiet",
            "--prometheus-port", prometheusPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--otlp-endpoint", $"http://127.0.0.1:{otlpPort}/v1/metrics");

        // Scrape while the run is going until the telemetry counter and the gauges show up (poll with a deadline): the
        // gauges are observed once the run samples them, which can be a scrape later than the first counter.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var scraped = "";
        try
        {
            await Poll.UntilAsync(async () =>
                {
                    try
                    {
                        scraped = await http.GetStringAsync($"http://127.0.0.1:{prometheusPort}/metrics");
                    }
                    catch (HttpRequestException)
                    {
                        // not listening yet
                    }

                    return scraped.Contains("telemetry.sent", StringComparison.Ordinal) && scraped.Contains("fleetsim_gauge", StringComparison.Ordinal);
                },
                "scrape with telemetry.sent and the gauges", TimeSpan.FromSeconds(60),
                gaveUp: () => run.IsCompleted ? "the run ended" : null,
                detail: () => scraped);
        }
        catch (Xunit.Sdk.XunitException) when (run.IsCompleted)
        {
            Assert.Fail("the run ended before its metrics could be scraped: " + (await run).All);
        }

        var result = await run;
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("fleetsim_counter", scraped);
        Assert.Contains("fleetsim_gauge", scraped);
        collector.Stop();
        await collecting;
        lock (pushes)
        {
            Assert.NotEmpty(pushes);
            Assert.All(pushes, p => Assert.Equal("application/x-protobuf", p.ContentType));
            Assert.Contains(pushes, p => Encoding.UTF8.GetString(p.Body).Contains("fleetsim.operation.ok", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Bad_export_options_are_bad_input()
    {
        var quickstart = Path.Combine(Fleetsim.RepoRoot, "scenarios", "quickstart.yaml");
        var port = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "run", quickstart, "--prometheus-port", "70000");
        Assert.Equal(2, port.ExitCode);
        Assert.Contains("--prometheus-port", port.Stderr);
        var url = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "run", quickstart, "--otlp-endpoint", "not a url");
        Assert.Equal(2, url.ExitCode);
        Assert.Contains("--otlp-endpoint", url.Stderr);
    }
}
