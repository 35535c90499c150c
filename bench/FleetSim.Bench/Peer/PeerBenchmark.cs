using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FleetSim.Protocol;

namespace FleetSim.Bench.Peer;

/// <summary>
/// The peer benchmark: one fresh `fleetsim hub` child process, then one generator child process after the other
/// against it (FleetSim's device stack, raw MQTTnet clients sending aligned and spread, the official Node device SDK
/// fleet), each with its own freshly registered devices; the CPU (utime + stime) and RSS of each generator and of the
/// hub are read from /proc. One table, each cell with its ratio to the raw aligned client. Then the connect-rate
/// runs (FleetSim vs raw: all at once, paced, and the reconnect storm after the hub drops every connection).
/// </summary>
public static partial class PeerBenchmark
{
    public const string RawAligned = "raw MQTTnet, aligned";

    /// <summary>The reference column of the connect table.</summary>
    public const string RawConnect = "raw MQTTnet";

    internal sealed record Hub(Process Process, string HostName, int MqttPort, int HttpsPort, string CaPath, ServiceConnectionString Service, string Work);

    /// <param name="only">When set, only the generators whose kind (fleetsim, fleetsim-spin, raw, node) is listed run.</param>
    public static async Task<int> RunAsync(int devices, int seconds, double rate, double connectRate, bool skipNode, bool skipConnect, IReadOnlySet<string>? only = null)
    {
        skipNode |= only is not null && !only.Contains("node");
        var root = RepoRoot();
        Console.WriteLine($"## Peer benchmark: {devices} devices, {rate.ToString(CultureInfo.InvariantCulture)} msg/s each, {seconds} s window, "
            + $"load average {File.ReadAllText("/proc/loadavg").Trim()}");
        var fleetsimDll = await BuildFleetSimAsync(root);
        var nodeDir = Path.Combine(root, "bench", "peer");
        if (!skipNode)
            await EnsureNodeModulesAsync(nodeDir);

        var hub = await StartHubAsync(fleetsimDll);
        try
        {
            await using var sampling = new ProcessSampling(TimeSpan.FromSeconds(1));
            sampling.Watch("hub", hub.Process.Id);
            using var http = HubClient(hub);
            Console.WriteLine($"hub: pid {hub.Process.Id}, MQTT port {hub.MqttPort}, HTTPS port {hub.HttpsPort}");
            // Warm-up, not reported: the hub's JIT, TLS and MQTT paths, so the first measured generator pays for itself only.
            await RunGeneratorAsync("warm-up", "raw", hub, http, sampling, 50, 3, 1, 0, "spread", storm: false, nodeDir);

            var runs = new List<PeerRun>();
            var plan = new List<(string Name, string Kind, string Mode)>
            {
                ("FleetSim", "fleetsim", "spread"),
                // The same device stack with the thread pool's idle spinning left on (the runtime default, as the raw
                // client runs): what fleetsim's UnfairSemaphoreSpinLimit=0 costs in latency and saves in CPU.
                ("FleetSim, thread-pool spinning on", "fleetsim-spin", "spread"),
                (RawAligned, "raw", "aligned"),
                ("raw MQTTnet, spread", "raw", "spread"),
            };
            if (!skipNode)
                plan.Add(("Node SDK (azure-iot-device), one process", "node", "spread"));
            foreach (var (name, kind, mode) in plan.Where(p => only is null || only.Contains(p.Kind)))
            {
                var run = await RunGeneratorAsync(name, kind, hub, http, sampling, devices, seconds, rate, 0, mode, storm: false, nodeDir);
                if (run is not null)
                    runs.Add(run);
            }

            Console.WriteLine();
            Console.WriteLine($"### {devices} devices, {rate.ToString(CultureInfo.InvariantCulture)} msg/s each, {seconds} s window (ratios to {RawAligned})");
            Console.WriteLine();
            Console.WriteLine(PeerTable.Render(runs, RawAligned));

            if (!skipConnect)
            {
                // FleetSim and the raw client always; FleetSim with the thread pool's spinning on when --only names it.
                var connectPlan = new List<(string Kind, string Label)> { ("fleetsim", "FleetSim") };
                if (only?.Contains("fleetsim-spin") == true)
                    connectPlan.Add(("fleetsim-spin", "FleetSim, spinning on"));
                connectPlan.Add(("raw", RawConnect));
                var connects = new List<ConnectRuns>();
                foreach (var (kind, label) in connectPlan)
                {
                    var all = await RunGeneratorAsync($"{label} connect, all at once", kind, hub, http, sampling, devices, 0, rate, 0, "spread", false, nodeDir);
                    var paced = await RunGeneratorAsync($"{label} connect, paced", kind, hub, http, sampling, devices, 0, rate, connectRate, "spread", false, nodeDir);
                    var storm = await RunGeneratorAsync($"{label} storm", kind, hub, http, sampling, devices, 0, rate, 0, "spread", true, nodeDir);
                    connects.Add(new ConnectRuns(label, all, paced, storm));
                }

                Console.WriteLine();
                Console.WriteLine($"### Connect rate, {devices} devices (TLS + MQTT CONNECT, no telemetry during the connects; ratios to {RawConnect})");
                Console.WriteLine();
                Console.WriteLine(ConnectTable(connects, RawConnect, connectRate));
            }
        }
        finally
        {
            Kill(hub.Process);
            TryDelete(hub.Work);
        }

        return 0;
    }

    /// <summary>One generator's three connect runs: all at once, paced, and the storm after the hub dropped every connection.</summary>
    public sealed record ConnectRuns(string Label, PeerRun? AllAtOnce, PeerRun? Paced, PeerRun? Storm);

    /// <summary>
    /// The connect table: one column per generator and one ratio column per generator against the reference (as rates:
    /// for the storm the reference's time over the generator's), then the CPU each connect cost the generator and the hub
    /// (ratio: the generator's CPU against the reference generator's).
    /// </summary>
    public static string ConnectTable(IReadOnlyList<ConnectRuns> generators, string referenceLabel, double connectRate)
    {
        static string Rate(PeerRun? r) => r is null ? "failed" : $"{r.ConnectsPerSecond:0}/s ({r.Result.ConnectSeconds:0.00} s, {r.Result.ConnectRetries} retries)";
        static string Storm(PeerRun? r) => r is null
            ? "failed"
            : r.Result.StormSeconds is { } s
                ? $"all {r.Result.Devices} back in {s:0.00} s ({r.Result.Devices / s:0}/s, {r.Result.ConnectRetries} retries)"
                : "not measured (no drop seen or no recovery in 5 min)";
        static string Cpu(double? generator, double? hub) =>
            generator is null && hub is null ? "n/a" : $"{Ms(generator)} / {Ms(hub)}";
        static string Ms(double? v) => v is { } x ? x.ToString("0.00", CultureInfo.InvariantCulture) : "n/a";
        static string X(double? ratio) => ratio is { } x ? x.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "n/a";

        var reference = generators.FirstOrDefault(g => g.Label == referenceLabel);
        var others = generators.Where(g => !ReferenceEquals(g, reference)).ToList();
        var sb = new StringBuilder("| |");
        foreach (var g in generators)
            sb.Append(' ').Append(g.Label).Append(" |");
        foreach (var g in others)
            sb.Append(' ').Append(g.Label).Append(" / ").Append(referenceLabel).Append(" |");
        sb.Append("\n|---|");
        for (var i = 0; i < generators.Count + others.Count; i++)
            sb.Append("---:|");
        sb.Append('\n');

        void Line(string label, Func<ConnectRuns, string> cell, Func<ConnectRuns, ConnectRuns?, double?> ratio)
        {
            sb.Append("| ").Append(label).Append(" |");
            foreach (var g in generators)
                sb.Append(' ').Append(cell(g)).Append(" |");
            foreach (var g in others)
                sb.Append(' ').Append(X(ratio(g, reference))).Append(" |");
            sb.Append('\n');
        }

        Line("all at once", g => Rate(g.AllAtOnce), (g, r) => PeerTable.Ratio(g.AllAtOnce?.ConnectsPerSecond, r?.AllAtOnce?.ConnectsPerSecond));
        Line($"paced {connectRate.ToString(CultureInfo.InvariantCulture)}/s", g => Rate(g.Paced), (g, r) => PeerTable.Ratio(g.Paced?.ConnectsPerSecond, r?.Paced?.ConnectsPerSecond));
        Line("storm after dropping all", g => Storm(g.Storm), (g, r) => PeerTable.Ratio(r?.Storm?.Result.StormSeconds, g.Storm?.Result.StormSeconds)); // rate = inverse time
        Line("CPU per connect, all at once: generator / hub (ms)", g => Cpu(g.AllAtOnce?.GeneratorCpuMsPerConnect, g.AllAtOnce?.HubCpuMsPerConnect),
            (g, r) => PeerTable.Ratio(g.AllAtOnce?.GeneratorCpuMsPerConnect, r?.AllAtOnce?.GeneratorCpuMsPerConnect));
        Line("CPU per connect, paced: generator / hub (ms)", g => Cpu(g.Paced?.GeneratorCpuMsPerConnect, g.Paced?.HubCpuMsPerConnect),
            (g, r) => PeerTable.Ratio(g.Paced?.GeneratorCpuMsPerConnect, r?.Paced?.GeneratorCpuMsPerConnect));
        Line("CPU per device, storm: generator / hub (ms)", g => Cpu(g.Storm?.GeneratorCpuMsPerReconnect, g.Storm?.HubCpuMsPerReconnect),
            (g, r) => PeerTable.Ratio(g.Storm?.GeneratorCpuMsPerReconnect, r?.Storm?.GeneratorCpuMsPerReconnect));
        return sb.ToString();
    }

    internal static async Task<PeerRun?> RunGeneratorAsync(string name, string kind, Hub hub, HttpClient http, ProcessSampling sampling, int n, int seconds,
        double rate, double connectRate, string mode, bool storm, string nodeDir)
    {
        var prefix = $"peer-{kind}-{Guid.NewGuid().ToString("N")[..6]}";
        var devicesFile = Path.Combine(hub.Work, prefix + ".txt");
        var ids = Enumerable.Range(0, n).Select(i => $"{prefix}-{i:D6}").ToArray();
        var keys = ids.Select(_ => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))).ToArray();
        await BulkAsync(http, hub, ids.Select((id, i) => new JsonObject
        {
            ["id"] = id,
            ["importMode"] = "create",
            ["status"] = "enabled",
            ["authentication"] = new JsonObject
            {
                ["type"] = "sas",
                ["symmetricKey"] = new JsonObject { ["primaryKey"] = keys[i], ["secondaryKey"] = keys[i] },
            },
        }).ToList());
        await File.WriteAllLinesAsync(devicesFile, ids.Select((id, i) => $"{id} {keys[i]}"));
        var args = new GeneratorArgs(devicesFile, hub.HostName, hub.MqttPort, hub.CaPath, seconds, rate, connectRate, mode, storm);
        var start = kind == "node" ? new ProcessStartInfo("node") { WorkingDirectory = nodeDir } : SelfStart();
        if (kind == "node")
            start.ArgumentList.Add(Path.Combine(nodeDir, "fleet.js"));
        else
        {
            start.ArgumentList.Add("peer-gen");
            start.ArgumentList.Add(kind == "fleetsim-spin" ? "fleetsim" : kind);
        }

        foreach (var a in args.ToArgs())
            start.ArgumentList.Add(a);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        if (kind == "fleetsim") // what fleetsim's own runtimeconfig sets (src/Simulator/FleetSim.Simulator.csproj); the raw client keeps the defaults
            start.Environment["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0";
        if (kind != "node" && Environment.GetEnvironmentVariable("FLEETSIM_BENCH_TRACE_DIR") is { Length: > 0 } traces)
        {
            // CPU samples of each .NET generator (not of the hub, nor of this process): where its connect time goes.
            // `dotnet-trace convert --format speedscope` reads the files.
            start.Environment["DOTNET_EnableEventPipe"] = "1";
            start.Environment["DOTNET_EventPipeOutputPath"] = Path.Combine(traces, $"{name.Replace(' ', '-').Replace(",", "")}.nettrace");
            start.Environment["DOTNET_EventPipeConfig"] = "Microsoft-DotNETCore-SampleProfiler:0:5,Microsoft-Windows-DotNETRuntime:0x4c14fccbd:5";
        }

        Console.Write($"- {name}: ");
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                lock (stderr)
                    stderr.AppendLine(e.Data);
        };
        process.BeginErrorReadLine();
        sampling.Watch(name, process.Id);
        long baseline = 0;
        ProcSample? genStart = null, hubStart = null, genReady = null, hubReady = null, genEnd = null, hubEnd = null, genStorm = null, hubStorm = null;
        DateTime readyAt = default, endAt = default;
        GeneratorResult? result = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds + 600));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.StartsWith(GeneratorResult.StartingLine, StringComparison.Ordinal))
                {
                    (genStart, hubStart) = (ProcSampler.TryRead(process.Id), ProcSampler.TryRead(hub.Process.Id));
                    baseline = long.Parse(line[GeneratorResult.StartingLine.Length..].Trim(), CultureInfo.InvariantCulture);
                }
                else if (line == GeneratorResult.ReadyLine)
                {
                    (genReady, hubReady, readyAt) = (ProcSampler.TryRead(process.Id), ProcSampler.TryRead(hub.Process.Id), DateTime.UtcNow);
                }
                else if (line == GeneratorResult.WindowEndLine)
                {
                    (genEnd, hubEnd, endAt) = (ProcSampler.TryRead(process.Id), ProcSampler.TryRead(hub.Process.Id), DateTime.UtcNow);
                    if (storm)
                        await PostAsync(http, hub, "/fleetsim/faults/drop", "{}");
                }
                else if (line == GeneratorResult.StormEndLine)
                    (genStorm, hubStorm) = (ProcSampler.TryRead(process.Id), ProcSampler.TryRead(hub.Process.Id));
                else if (line.StartsWith(GeneratorResult.ResultPrefix, StringComparison.Ordinal))
                    result = GeneratorResult.Parse(line);
            }

            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine($"timed out after {seconds + 600} s");
        }
        finally
        {
            sampling.Forget(name);
            Kill(process);
            await BulkAsync(http, hub, ids.Select(id => new JsonObject { ["id"] = id, ["importMode"] = "delete" }).ToList());
            TryDelete(devicesFile);
        }

        if (result is null || genReady is null || genEnd is null || hubReady is null || hubEnd is null)
        {
            string err;
            lock (stderr)
                err = Redaction.Redact(stderr.ToString());
            Console.WriteLine($"FAILED (exit {(process.HasExited ? process.ExitCode : -1)}): {err.Trim()}");
            return null;
        }

        // Steady state: the second half of the window (the first half may still grow buffers and pools).
        var windowSamples = sampling.Between(name, readyAt + (endAt - readyAt) / 2, endAt);
        var hubSamples = sampling.Between("hub", readyAt, endAt);
        var steadyRss = windowSamples.Count > 0 ? Median(windowSamples.Select(s => s.RssBytes)) : genEnd.Value.RssBytes;
        var hubRss = hubSamples.Count > 0 ? Median(hubSamples.Select(s => s.RssBytes)) : hubEnd.Value.RssBytes;
        static double? Cpu(ProcSample? from, ProcSample? to) => from is { } f && to is { } t ? ProcSampler.TicksToMs(t.CpuTicks - f.CpuTicks) : null;
        var run = new PeerRun(name, result, ProcSampler.TicksToMs(genEnd.Value.CpuTicks - genReady.Value.CpuTicks),
            ProcSampler.TicksToMs(hubEnd.Value.CpuTicks - hubReady.Value.CpuTicks), baseline, steadyRss, hubRss,
            Cpu(genStart, genReady), Cpu(hubStart, hubReady), Cpu(genEnd, genStorm), Cpu(hubEnd, hubStorm));
        Console.WriteLine($"{result.Connected}/{n} connected in {result.ConnectSeconds:0.00} s ({result.ConnectRetries} retries)"
            + (seconds > 0
                ? $", {run.MessagesPerSecond:0} msg/s, p50/p99 {result.P50Ms:0.00}/{result.P99Ms:0.00} ms, CPU {run.CpuMsPer1000:0.0} ms/1000 msgs, "
                  + $"RSS {run.RssPerDeviceKb:0.0} KB/device, hub CPU {run.HubCpuCores:0.00} cores"
                : "")
            + (run.GeneratorCpuMsPerConnect is { } gc ? $", CPU per connect: generator {gc:0.00} ms, hub {run.HubCpuMsPerConnect:0.00} ms" : "")
            + (result.StormSeconds is { } s ? $", storm: all back {s:0.00} s after the first loss (CPU per device: generator {run.GeneratorCpuMsPerReconnect:0.00} ms, hub {run.HubCpuMsPerReconnect:0.00} ms)" : "")
            + (result.Note is { } note ? $", {note}" : ""));
        return run;
    }

    public static long Median(IEnumerable<long> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted[(sorted.Length - 1) / 2];
    }
}
