using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using FleetSim.DeviceActors;
using FleetSim.DeviceActors.Fleet;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Twin;
using FleetSim.HubEmulator;
using FleetSim.Metrics;
using DeviceIdentity = FleetSim.DeviceActors.DeviceIdentity;

namespace FleetSim.Bench;

/// <summary>
/// Long-run stability: N devices of the real stack (MQTTnet over TLS) against the in-process hub for M minutes with
/// churn, sampling resident memory and the GC heap once a minute. Churn every <c>churnEvery</c>: the hub drops a
/// fraction of the connections (the devices reconnect, resending what was in flight) and the same fraction of devices is
/// stopped cleanly while the previous round's stopped devices start again (a ramp-down and ramp-up). Metrics are
/// sampled once a second as a <c>fleetsim run</c> does, so whatever a long run accumulates (time series, recovery
/// events) is in the numbers. The question is not how big, but whether it grows: the table ends with the growth from
/// the first sample after every device connected, and the least-squares slope over the samples.
/// </summary>
public static class SoakBenchmark
{
    /// <summary>What a churn round does: both (the default), only the hub's drops, or only the device restarts.</summary>
    public enum ChurnKind
    {
        Both,
        Drop,
        Restart,
    }

    private sealed record Sample(double Minute, long RssBytes, long HeapBytes, long CommittedBytes, long Connected, long Acked, long Reconnects,
        long LostConnections, int Gen2Collections, NativeHeap.Snapshot? Native);

    public static bool TryParseKind(string? text, out ChurnKind kind)
    {
        kind = text switch
        {
            null or "both" => ChurnKind.Both,
            "drop" => ChurnKind.Drop,
            "restart" => ChurnKind.Restart,
            _ => (ChurnKind)(-1),
        };
        return kind >= 0;
    }

    public static async Task RunAsync(int devices, int minutes, double churn, int churnEverySeconds, int sampleEverySeconds, ChurnKind kind = ChurnKind.Both)
    {
        if (devices <= 0 || minutes <= 0 || churn is < 0 or > 1 || churnEverySeconds <= 0 || sampleEverySeconds <= 0)
            throw new ArgumentException("soak needs --devices > 0, --minutes > 0, --churn between 0 and 1, --churn-every > 0, --sample-every > 0");
        var drops = kind != ChurnKind.Restart ? churn : 0;
        var restarts = kind != ChurnKind.Drop ? churn : 0;
        Console.WriteLine($"## Soak: {devices} devices, telemetry every 1 s, reported twin patch every 30 s, {minutes} min; "
            + $"churn every {churnEverySeconds} s: {drops:P0} of connections dropped by the hub and {restarts:P0} of devices stopped and started again; "
            + $"memory sampled every {sampleEverySeconds} s");
        var hub = await IoTHubEmulator.StartAsync(new HubEmulatorOptions { MqttPort = 0, HttpsPort = 0 });
        var system = ActorSystem.Create("soak", "akka.loglevel = WARNING");
        using var ca = X509Certificate2.CreateFromPem(hub.CaCertificatePem);
        try
        {
            var identities = new DeviceIdentity[devices];
            for (var i = 0; i < devices; i++)
            {
                var id = $"soak-{i:D6}";
                identities[i] = new DeviceIdentity(id, i, hub.Registry.Add(id).PrimaryKey);
            }

            var options = new DeviceOptions
            {
                HostName = hub.HostName,
                EndpointHost = "127.0.0.1",
                EndpointPort = hub.MqttPort,
                TrustedCa = ca,
                Telemetry = new TelemetryOptions { Interval = TimeSpan.FromSeconds(1) },
                Twin = new TwinOptions { ReportedInterval = TimeSpan.FromSeconds(30), ReportedPatch = new FixedReportedPatch("""{"firmware":"1.0.0","status":"ok"}""") },
                OperationTimeout = TimeSpan.FromSeconds(60),
                StopDrainTimeout = TimeSpan.FromSeconds(10),
            };
            var metrics = new FleetMetrics();
            var fleet = system.ActorOf(FleetSupervisor.Props(metrics), "fleet");
            fleet.Tell(new FleetSupervisor.RegisterGroup(0, options));
            var started = Stopwatch.GetTimestamp();
            foreach (var identity in identities)
                fleet.Tell(new FleetSupervisor.StartDevice(0, identity, Stopwatch.GetTimestamp()));

            var connected = metrics.Gauge(Gauges.DevicesConnected);
            var clock = Stopwatch.StartNew();
            while (connected.Value < devices && clock.Elapsed < TimeSpan.FromMinutes(5))
                await Task.Delay(50);
            Console.WriteLine($"- {connected.Value} of {devices} connected after {clock.Elapsed.TotalSeconds:0.0} s");

            var samples = new List<Sample> { Take(0, metrics) };
            Print(samples[0], header: true);
            var end = TimeSpan.FromMinutes(minutes);
            var nextChurn = TimeSpan.FromSeconds(churnEverySeconds);
            var nextSample = TimeSpan.FromSeconds(sampleEverySeconds);
            var nextSecond = TimeSpan.FromSeconds(1);
            var perRound = (int)Math.Round(devices * churn);
            var stoppedFrom = -1; // first index of the devices the previous churn round stopped
            var round = 0;
            var soak = Stopwatch.StartNew();
            while (soak.Elapsed < end)
            {
                await Task.Delay(100);
                var now = soak.Elapsed;
                if (now >= nextSecond)
                {
                    metrics.Sample(DateTimeOffset.UtcNow);
                    nextSecond += TimeSpan.FromSeconds(1);
                }

                if (now >= nextChurn && perRound > 0)
                {
                    nextChurn += TimeSpan.FromSeconds(churnEverySeconds);
                    if (kind != ChurnKind.Restart)
                        await hub.Faults.DropFractionAsync(churn);
                    if (kind != ChurnKind.Drop)
                    {
                        if (stoppedFrom >= 0)
                        {
                            for (var i = 0; i < perRound; i++)
                                fleet.Tell(new FleetSupervisor.StartDevice(0, identities[(stoppedFrom + i) % devices], Stopwatch.GetTimestamp()));
                        }

                        stoppedFrom = round * perRound % devices;
                        for (var i = 0; i < perRound; i++)
                            fleet.Tell(new FleetSupervisor.StopDevice(identities[(stoppedFrom + i) % devices].DeviceId));
                    }

                    round++;
                }

                if (now >= nextSample)
                {
                    nextSample += TimeSpan.FromSeconds(sampleEverySeconds);
                    var sample = Take(now.TotalMinutes, metrics);
                    samples.Add(sample);
                    Print(sample, header: false);
                }
            }

            var stopped = await fleet.Ask<FleetSupervisor.AllStopped>(new FleetSupervisor.StopAll(TimeSpan.FromSeconds(60)), TimeSpan.FromSeconds(90));
            Console.WriteLine();
            Summarise(samples);
            var totals = hub.Ingest.Totals;
            Console.WriteLine($"- {round} churn rounds; sent {metrics.Counter(Counters.TelemetrySent).Value}, acked {metrics.Counter(Counters.TelemetryAcked).Value}, "
                + $"ingested {totals.Ingested} (lost {totals.Lost}, duplicated {totals.Duplicated}, out of order {totals.OutOfOrder}); "
                + $"stop: {stopped.Stopped} stopped, timed out {stopped.TimedOut}; wall {Stopwatch.GetElapsedTime(started).TotalMinutes:0.0} min");
        }
        finally
        {
            await system.Terminate();
            await hub.DisposeAsync();
        }
    }

    private static Sample Take(double minute, FleetMetrics metrics)
    {
        // The live heap: what is still referenced after a full blocking collection (a leak grows it; garbage does not).
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        using var process = Process.GetCurrentProcess();
        var reconnects = metrics.Operation(Operations.Reconnect).OkCount;
        return new Sample(minute, process.WorkingSet64, GC.GetTotalMemory(false), GC.GetGCMemoryInfo().TotalCommittedBytes,
            metrics.Gauge(Gauges.DevicesConnected).Value, metrics.Counter(Counters.TelemetryAcked).Value, reconnects,
            metrics.Counter(Counters.ConnectionLost).Value, GC.CollectionCount(2), NativeHeap.Take());
    }

    private static void Print(Sample s, bool header)
    {
        if (header)
        {
            Console.WriteLine();
            Console.WriteLine("| minute | RSS (MB) | GC heap, live (MB) | GC committed (MB) | malloc in use (MB) | malloc free (MB) | open fds | connected | acked total | reconnects | connections lost |");
            Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {s.Minute:0.0} | {Mb(s.RssBytes):0.0} | {Mb(s.HeapBytes):0.0} | {Mb(s.CommittedBytes):0.0} | {NativeMb(s.Native?.InUseBytes)} | {NativeMb(s.Native?.FreeBytes)} | {s.Native?.OpenFiles.ToString(CultureInfo.InvariantCulture) ?? "n/a"} | {s.Connected} | {s.Acked} | {s.Reconnects} | {s.LostConnections} |"));
    }

    /// <summary>Growth from the first sample to the last, and the least-squares slope per minute (of the samples after the first).</summary>
    private static void Summarise(IReadOnlyList<Sample> samples)
    {
        if (samples.Count < 3)
        {
            Console.WriteLine("- too few samples for a trend (run longer or sample more often)");
            return;
        }

        var first = samples[1]; // the first sample under churn; sample 0 is the moment every device had connected
        var last = samples[^1];
        var tail = samples.Skip(1).ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"- RSS: {Mb(first.RssBytes):0.0} -> {Mb(last.RssBytes):0.0} MB ({Growth(first.RssBytes, last.RssBytes)}), slope {Slope(tail, s => s.RssBytes) / 1048576:0.00} MB/min"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"- GC heap (live): {Mb(first.HeapBytes):0.0} -> {Mb(last.HeapBytes):0.0} MB ({Growth(first.HeapBytes, last.HeapBytes)}), slope {Slope(tail, s => s.HeapBytes) / 1048576:0.00} MB/min"));
        if (first.Native is { } a && last.Native is { } b)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"- malloc in use: {Mb(a.InUseBytes):0.0} -> {Mb(b.InUseBytes):0.0} MB, slope {Slope(tail, s => s.Native?.InUseBytes ?? 0) / 1048576:0.00} MB/min; "
                + $"free inside malloc's arenas: {Mb(a.FreeBytes):0.0} -> {Mb(b.FreeBytes):0.0} MB, slope {Slope(tail, s => s.Native?.FreeBytes ?? 0) / 1048576:0.00} MB/min; "
                + $"open fds {a.OpenFiles} -> {b.OpenFiles}"));
        }
    }

    private static double Slope(IReadOnlyList<Sample> samples, Func<Sample, long> value)
    {
        var n = samples.Count;
        double mx = samples.Average(s => s.Minute), my = samples.Average(s => (double)value(s));
        double num = 0, den = 0;
        foreach (var s in samples)
        {
            num += (s.Minute - mx) * (value(s) - my);
            den += (s.Minute - mx) * (s.Minute - mx);
        }

        return n < 2 || den == 0 ? 0 : num / den;
    }

    private static string Growth(long from, long to) =>
        from == 0 ? "n/a" : ((to - from) / (double)from).ToString("+0.0%;-0.0%", CultureInfo.InvariantCulture);

    private static double Mb(long bytes) => bytes / 1048576.0;

    private static string NativeMb(long? bytes) => bytes is { } b ? Mb(b).ToString("0.0", CultureInfo.InvariantCulture) : "n/a";
}
