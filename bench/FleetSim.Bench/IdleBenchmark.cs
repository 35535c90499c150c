using System.Diagnostics;
using System.Globalization;
using System.Text;
using FleetSim.Bench.Peer;
using FleetSim.DeviceActors;
using FleetSim.Metrics;

namespace FleetSim.Bench;

/// <summary>
/// What a connected, nearly idle fleet costs (issue 13 item 3, issue 11 item 7): one fresh `fleetsim hub` child process,
/// then, one after the other against it, FleetSim's device side and raw MQTTnet clients (with and without MQTTnet's
/// keep-alive task), each as its own child process with its own devices, each device sending one QoS 1 message every
/// <c>interval</c> seconds. The generator's CPU (utime + stime from /proc) over the window is reported per second per
/// 1,000 devices, its RSS per device as (median RSS of the second half of the window - RSS before the first connect) / N.
/// The same machinery as `peer` (PeerBenchmark.RunGeneratorAsync).
/// </summary>
public static class IdleBenchmark
{
    public static async Task<int> RunAsync(int devices, int seconds, double intervalSeconds, IReadOnlySet<string>? only)
    {
        var rate = 1 / intervalSeconds;
        Console.WriteLine($"## Idle benchmark: {devices} devices, one message every {intervalSeconds.ToString(CultureInfo.InvariantCulture)} s each, "
            + $"{seconds} s window, load average {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine(MeasureMetricsReading(devices, intervalSeconds));
        var root = PeerBenchmark.RepoRoot();
        var fleetsimDll = await PeerBenchmark.BuildFleetSimAsync(root);
        var hub = await PeerBenchmark.StartHubAsync(fleetsimDll);
        var nodeDir = Path.Combine(root, "bench", "peer");
        var runs = new List<PeerRun>();
        try
        {
            await using var sampling = new ProcessSampling(TimeSpan.FromSeconds(1));
            sampling.Watch("hub", hub.Process.Id);
            using var http = PeerBenchmark.HubClient(hub);
            Console.WriteLine($"hub: pid {hub.Process.Id}, MQTT port {hub.MqttPort}");
            await PeerBenchmark.RunGeneratorAsync("warm-up", "raw", hub, http, sampling, 50, 3, 1, 0, "spread", storm: false, nodeDir);
            var plan = new (string Name, string Kind, string Mode)[]
            {
                ("FleetSim", "fleetsim", "spread"),
                ("raw MQTTnet", "raw", "spread"),
                ("raw MQTTnet, keep-alive task off", "raw", "spread" + RawMqttFleet.NoKeepAliveSuffix),
            };
            foreach (var (name, kind, mode) in plan)
            {
                if (only is not null && !only.Contains(kind + (mode.EndsWith(RawMqttFleet.NoKeepAliveSuffix, StringComparison.Ordinal) ? RawMqttFleet.NoKeepAliveSuffix : "")))
                    continue;
                Console.WriteLine($"  (load average {File.ReadAllText("/proc/loadavg").Trim()})");
                if (await PeerBenchmark.RunGeneratorAsync(name, kind, hub, http, sampling, devices, seconds, rate, 0, mode, storm: false, nodeDir) is { } run)
                    runs.Add(run);
            }
        }
        finally
        {
            PeerBenchmark.Kill(hub.Process);
            PeerBenchmark.TryDelete(hub.Work);
        }

        Console.WriteLine();
        Console.WriteLine($"### {devices} connected devices, one message every {intervalSeconds.ToString(CultureInfo.InvariantCulture)} s each, {seconds} s window "
            + $"(load average at the end {File.ReadAllText("/proc/loadavg").Trim()})");
        Console.WriteLine();
        Console.WriteLine(Render(runs));
        return runs.Count > 0 ? 0 : 1;
    }

    /// <summary>
    /// What reading the metrics costs `fleetsim run` each second, which the generator child here does not do: the runner
    /// takes one time-series sample and the live view one snapshot (thresholds, an exporter take more). In this process,
    /// over a run's operations (every one a device registers), with a second's telemetry of <paramref name="devices"/>
    /// devices recorded between readings and their connects recorded once; the median of 40 readings after 10 of warm-up,
    /// in CPU time of this thread (CLOCK_THREAD_CPUTIME_ID: other processes on a loaded machine do not count). Also the
    /// heap the histograms take (fixed: not per device).
    /// </summary>
    public static string MeasureMetricsReading(int devices, double intervalSeconds)
    {
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var metrics = new FleetMetrics();
        var device = new DeviceMetrics(metrics);
        var random = new Random(13);
        for (var i = 0; i < devices; i++)
            device.Connect.RecordOk(TimeSpan.FromMicroseconds(20_000 + random.Next(2_000_000)));
        var perSecond = Math.Max(1, (int)(devices / intervalSeconds));
        var (sample, snapshot) = (new List<double>(), new List<double>());
        var at = DateTimeOffset.UtcNow;
        for (var round = 0; round < 50; round++)
        {
            for (var i = 0; i < perSecond; i++)
            {
                device.Telemetry.RecordOk(TimeSpan.FromMicroseconds(800 + random.Next(20_000)));
                device.SendLag.RecordOk(TimeSpan.FromMicroseconds(20 + random.Next(400)));
            }

            var t0 = ThreadCpuMs();
            metrics.Sample(at = at.AddSeconds(1));
            var t1 = ThreadCpuMs();
            _ = metrics.Snapshot();
            var t2 = ThreadCpuMs();
            if (round < 10)
                continue;
            sample.Add(t1 - t0);
            snapshot.Add(t2 - t1);
        }

        var heap = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
        GC.KeepAlive(metrics);
        double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        return string.Create(CultureInfo.InvariantCulture,
            $"metrics reading, as `fleetsim run` each second ({metrics.Snapshot().Operations.Count} operations, {perSecond} telemetry latencies a second): "
            + $"sample {Median(sample):0.000} ms, snapshot {Median(snapshot):0.000} ms (median of 40); the histograms hold {heap / 1048576.0:0.0} MB of heap");
    }

    private static double ThreadCpuMs() =>
        ClockGetTime(3 /* CLOCK_THREAD_CPUTIME_ID */, out var t) == 0 ? (t.Seconds * 1e3) + (t.Nanoseconds / 1e6) : Stopwatch.GetTimestamp() * 1e3 / Stopwatch.Frequency;

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
#pragma warning disable SYSLIB1054 // a benchmark's few calls; LibraryImport would need unsafe code enabled
    private static extern int ClockGetTime(int clock, out TimeSpec time);
#pragma warning restore SYSLIB1054

    /// <summary>Generator CPU per second per 1,000 connected devices over the window, in ms.</summary>
    public static double CpuMsPerSecondPer1000(PeerRun run) =>
        run.Result.WindowSeconds > 0 && run.Result.Connected > 0 ? run.GeneratorCpuMs / run.Result.WindowSeconds / (run.Result.Connected / 1000.0) : 0;

    public static string Render(IReadOnlyList<PeerRun> runs)
    {
        var sb = new StringBuilder("| | " + string.Join(" | ", runs.Select(r => r.Name)) + " |\n|---|" + string.Concat(runs.Select(_ => "---:|")) + "\n");
        void Row(string label, Func<PeerRun, string> cell) => sb.Append("| ").Append(label).Append(" | ").Append(string.Join(" | ", runs.Select(cell))).Append(" |\n");
        Row("generator CPU, ms per second per 1,000 devices", r => CpuMsPerSecondPer1000(r).ToString("0.0", CultureInfo.InvariantCulture));
        Row("generator CPU, ms per second (whole process: with 0 devices, the fixed cost)", r => (r.CpuCores * 1000).ToString("0.0", CultureInfo.InvariantCulture));
        Row("generator CPU (cores)", r => r.CpuCores.ToString("0.000", CultureInfo.InvariantCulture));
        Row("generator RSS per device (KB, steady - baseline)", r => r.RssPerDeviceKb.ToString("0.0", CultureInfo.InvariantCulture));
        Row("generator RSS baseline / steady (MB)", r => $"{r.RssBaselineBytes / 1048576} / {r.RssSteadyBytes / 1048576}");
        Row("acked msg/s (window)", r => r.MessagesPerSecond.ToString("0", CultureInfo.InvariantCulture));
        Row("sent / acked / failed in the window", r => $"{r.Result.Sent} / {r.Result.Acked} / {r.Result.Failed}");
        Row("hub CPU (cores) / RSS (MB)", r => $"{r.HubCpuCores.ToString("0.000", CultureInfo.InvariantCulture)} / {r.HubRssBytes / 1048576}");
        return sb.ToString();
    }
}
