using System.Diagnostics;
using System.Text.Json.Nodes;

namespace FleetSim.Simulator.Tests;

/// <summary>The real command against the embedded emulator: real MQTT over TLS, real HTTPS, real files.</summary>
public sealed class RunEndToEndTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Scenario(string name) => Path.Combine(Fleetsim.RepoRoot, "scenarios", name);

    [Fact]
    public async Task Quickstart_small_delivers_every_message_exactly_once_and_writes_the_reports()
    {
        var outDir = Path.Combine(_dir, "out");
        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(3), _dir,
            "run", Scenario("quickstart.yaml"), "--scale", "0.2", "--duration", "6s", "--out", outDir, "--quiet");

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("report.html", result.Stdout);
        foreach (var file in new[] { "report.json", "report.html", "summary.csv", "timeseries.csv", "summary.md" })
            Assert.True(File.Exists(Path.Combine(outDir, file)), $"{file} missing");

        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "report.json")))!;
        Assert.Equal(20, report["devices"]!["target"]!.GetValue<long>());
        Assert.Equal(20, report["devices"]!["connectedPeak"]!.GetValue<long>());
        var telemetry = report["telemetry"]!;
        var sent = telemetry["sent"]!.GetValue<long>();
        Assert.True(sent >= 20, $"only {sent} messages sent");
        Assert.Equal(sent, telemetry["acked"]!.GetValue<long>());
        Assert.Equal(sent, telemetry["ingested"]!.GetValue<long>());
        Assert.Equal(0, telemetry["lost"]!.GetValue<long>());
        Assert.Equal(0, telemetry["duplicated"]!.GetValue<long>());
        Assert.True(report["latency"]!["connect"]!["p99"]!.GetValue<double>() > 0);
        Assert.True(report["latency"]!["telemetry"]!["max"]!.GetValue<double>() > 0);

        // The generator's own timing: every message made has a send lag, in report.json and in the console summary.
        var sendLag = report["generator"]!["sendLag"]!;
        Assert.True(sendLag["count"]!.GetValue<long>() >= sent, $"send lag of {sendLag["count"]} messages, {sent} sent");
        Assert.InRange(sendLag["p99"]!.GetValue<double>(), 0, sendLag["max"]!.GetValue<double>());
        Assert.Contains("generator  send lag p50 ", result.Stdout);

        // Secrets never reach the reports.
        foreach (var file in Directory.GetFiles(outDir))
        {
            var text = await File.ReadAllTextAsync(file);
            Assert.DoesNotContain("SharedAccessKey=", text.Replace("SharedAccessKey=***", ""));
            Assert.DoesNotContain("sig=", text.Replace("sig=***", ""));
        }
    }

    [Fact]
    public async Task Ctrl_c_ends_the_run_early_and_still_writes_the_report()
    {
        var outDir = Path.Combine(_dir, "cancelled");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _dir };
        foreach (var a in new[] { Fleetsim.Dll, "run", Scenario("quickstart.yaml"), "--scale", "0.1", "--duration", "5m", "--out", outDir })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderrTask = process.StandardError.ReadToEndAsync();

        // Wait until the run is measuring (the plain progress line when output is not a terminal), then interrupt it.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        string? line;
        while ((line = await process.StandardOutput.ReadLineAsync()) is not null && !line.StartsWith("[00:", StringComparison.Ordinal))
            Assert.True(DateTime.UtcNow < deadline, "no progress line within a minute");
        Assert.NotNull(line);
        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();
        var rest = await process.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(cts.Token);

        Assert.Equal(3, process.ExitCode);
        Assert.Contains("cancelled", rest);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "report.json")))!;
        Assert.Contains("cancelled", report["run"]!["exitReason"]!.GetValue<string>());
        Assert.True(report["telemetry"]!["sent"]!.GetValue<long>() > 0, "what was measured before Ctrl+C is in the report");
        Assert.DoesNotContain("   at ", await stderrTask);
    }

    [Fact]
    public async Task Report_command_re_renders_and_flags_a_planted_regression()
    {
        var outDir = Path.Combine(_dir, "base");
        var run = await Fleetsim.RunAsync(TimeSpan.FromMinutes(3), _dir,
            "run", Scenario("quickstart.yaml"), "--scale", "0.1", "--duration", "4s", "--out", outDir, "--quiet");
        Assert.True(run.ExitCode == 0, run.All);
        var baseline = Path.Combine(outDir, "report.json");

        // The same run against itself: no regression.
        var same = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "report", baseline, "--baseline", baseline, "--out", Path.Combine(_dir, "same"));
        Assert.Equal(0, same.ExitCode);
        Assert.Contains("no regression", same.Stdout);

        // A copy whose telemetry p99 is ten times worse: flagged, exit 1.
        var worse = JsonNode.Parse(await File.ReadAllTextAsync(baseline))!;
        var p99 = worse["latency"]!["telemetry"]!["p99"]!.GetValue<double>();
        worse["latency"]!["telemetry"]!["p99"] = p99 * 10 + 50;
        var worsePath = Path.Combine(_dir, "worse.json");
        await File.WriteAllTextAsync(worsePath, worse.ToJsonString());
        var compared = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "report", worsePath, "--baseline", baseline, "--out", Path.Combine(_dir, "cmp"));
        Assert.Equal(1, compared.ExitCode);
        Assert.Contains("REGRESSION latency.telemetry.p99", compared.Stdout);
        Assert.True(File.Exists(Path.Combine(_dir, "cmp", "report.html")));
    }
}
