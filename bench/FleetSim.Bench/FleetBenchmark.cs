using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using FleetSim.DeviceActors;
using FleetSim.DeviceActors.Fleet;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.HubEmulator;
using FleetSim.Metrics;
using FleetSim.Reporting;
using DeviceIdentity = FleetSim.DeviceActors.DeviceIdentity;

namespace FleetSim.Bench;

/// <summary>
/// N devices, 1 msg/s each, in one process: first as actors over a transport that acknowledges instantly (the
/// baseline: what a device costs as an actor), then the real stack (MQTTnet over TLS) against the in-process hub
/// emulator (what a device costs with its connection, device side and hub side together). Same N, same run.
/// </summary>
public static class FleetBenchmark
{
    private sealed record Result(
        string Name, int Devices, double ConnectSeconds, long ConnectRetries, long Sent, long Acked, double AckedPerSecond,
        double TelemetryP50Ms, double TelemetryP99Ms, double WindowP50Ms, double WindowP99Ms, double ConnectP50Ms, double ConnectP99Ms,
        long HeapBefore, long HeapConnected, long WorkingSetBefore, long WorkingSetConnected, long CommittedBefore, long CommittedConnected,
        string Accounting);

    /// <param name="connectsPerSecond">The supervisor's connect rate; 0 starts every connect at once.</param>
    public static async Task RunAsync(int devices, int seconds, int connectsPerSecond)
    {
        var pace = connectsPerSecond > 0 ? $"{connectsPerSecond} connects/s" : "all connects at once";
        Console.WriteLine($"## Fleet: {devices} devices, telemetry every 1 s for {seconds} s ({pace})");
        // Warm-up (not reported): JIT, TLS and MQTT code paths, thread pool, so N devices pay only for themselves.
        await RunOnceAsync("warm-up", 50, 1, 0, hub: null);
        var baseline = await RunOnceAsync("actor + instant fake transport", devices, seconds, connectsPerSecond, hub: null);
        Print(baseline);
        var hub = await IoTHubEmulator.StartAsync(new HubEmulatorOptions { MqttPort = 0, HttpsPort = 0 });
        Result real;
        try
        {
            await RunOnceAsync("warm-up", 50, 1, 0, hub, "warmup");
            real = await RunOnceAsync("actor + MQTT/TLS + in-process hub", devices, seconds, connectsPerSecond, hub);
        }
        finally
        {
            await hub.DisposeAsync();
        }

        Print(real);
        Console.WriteLine();
        Console.WriteLine("| | baseline (fake transport) | real (MQTT/TLS + hub) | ratio real/baseline |");
        Console.WriteLine("|---|---:|---:|---:|");
        Row("time to connect all (s)", baseline.ConnectSeconds, real.ConnectSeconds, "0.00");
        Row("connects/s achieved", devices / baseline.ConnectSeconds, devices / real.ConnectSeconds, "0");
        Row("connect p50 / p99 (ms)", baseline.ConnectP50Ms, real.ConnectP50Ms, "0.0", baseline.ConnectP99Ms, real.ConnectP99Ms);
        Row("telemetry acked msg/s (steady window)", baseline.AckedPerSecond, real.AckedPerSecond, "0");
        Row("telemetry p50 / p99, steady window (ms)", baseline.WindowP50Ms, real.WindowP50Ms, "0.00", baseline.WindowP99Ms, real.WindowP99Ms);
        Row("telemetry p50 / p99, whole run incl. ramp-up (ms)", baseline.TelemetryP50Ms, real.TelemetryP50Ms, "0.00", baseline.TelemetryP99Ms, real.TelemetryP99Ms);
        Row("GC heap per device (KB)", PerDevice(baseline.HeapBefore, baseline.HeapConnected, devices),
            PerDevice(real.HeapBefore, real.HeapConnected, devices), "0.0");
        Row("GC committed per device (KB)", PerDevice(baseline.CommittedBefore, baseline.CommittedConnected, devices),
            PerDevice(real.CommittedBefore, real.CommittedConnected, devices), "0.0");
        Row("working set per device (KB)", PerDevice(baseline.WorkingSetBefore, baseline.WorkingSetConnected, devices),
            PerDevice(real.WorkingSetBefore, real.WorkingSetConnected, devices), "0.0");
        Console.WriteLine();
        Console.WriteLine($"Accounting (baseline): {baseline.Accounting}");
        Console.WriteLine($"Accounting (real): {real.Accounting}");
        Console.WriteLine();
    }

    private static async Task<Result> RunOnceAsync(string name, int n, int seconds, int rate, IoTHubEmulator? hub, string prefix = "bench")
    {
        using var ca = hub is null ? null : X509Certificate2.CreateFromPem(hub.CaCertificatePem);
        var identities = new DeviceIdentity[n];
        for (var i = 0; i < n; i++)
        {
            var id = $"{prefix}-{i:D6}";
            identities[i] = new DeviceIdentity(id, i, hub is null ? Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) : hub.Registry.Add(id).PrimaryKey);
        }

        var options = new DeviceOptions
        {
            HostName = hub?.HostName ?? "bench.localhost",
            EndpointHost = "127.0.0.1",
            EndpointPort = hub?.MqttPort ?? 8883,
            TrustedCa = ca,
            Telemetry = new TelemetryOptions { Interval = TimeSpan.FromSeconds(1) },
            OperationTimeout = TimeSpan.FromSeconds(60),
            StopDrainTimeout = TimeSpan.FromSeconds(10),
        };
        var metrics = new FleetMetrics();
        var system = ActorSystem.Create("bench", "akka.loglevel = WARNING");
        try
        {
            await StartSchedulerAsync(system);
            var ingestBefore = hub?.Ingest.Totals ?? default;
            var fleet = system.ActorOf(FleetSupervisor.Props(metrics, hub is null ? new InstantTransportFactory() : null), "fleet");
            var (heapBefore, wsBefore, committedBefore) = Memory();

            var clock = Stopwatch.StartNew();
            var created = await fleet.Ask<object>(new FleetSupervisor.StartDevices(identities, options, rate), TimeSpan.FromMinutes(2));
            if (created is not FleetSupervisor.DevicesCreated)
            {
                throw new InvalidOperationException($"fleet did not start: {created}");
            }

            var connected = metrics.Gauge(Gauges.DevicesConnected);
            await PollAsync(() => connected.Value >= n, TimeSpan.FromMinutes(5), $"{name}: all {n} connected");
            var connectSeconds = clock.Elapsed.TotalSeconds;
            var (heapConnected, wsConnected, committedConnected) = Memory();

            var acked = metrics.Counter(Counters.TelemetryAcked);
            var windowStart = acked.Value;
            metrics.Sample(DateTimeOffset.UtcNow); // closes the ramp-up interval: the next sample covers the window alone
            var window = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            var ackedPerSecond = (acked.Value - windowStart) / window.Elapsed.TotalSeconds;
            metrics.Sample(DateTimeOffset.UtcNow);

            var stopped = await fleet.Ask<FleetSupervisor.AllStopped>(new FleetSupervisor.StopAll(TimeSpan.FromSeconds(60)), TimeSpan.FromSeconds(90));
            var snapshot = metrics.Snapshot();
            var steady = snapshot.Series[^1].Operations.TryGetValue(Operations.Telemetry, out var w) ? w : null;
            var telemetry = snapshot.Operations[Operations.Telemetry].Latency;
            var connect = snapshot.Operations[Operations.Connect].Latency;
            var sent = metrics.Counter(Counters.TelemetrySent).Value;
            var ackedTotal = acked.Value;
            var accounting = $"sent {sent}, acked {ackedTotal}";
            if (hub is not null)
            {
                var totals = hub.Ingest.Totals; // this run only: the warm-up fleet used the same hub
                var ingested = totals.Ingested - ingestBefore.Ingested;
                accounting += $", ingested {ingested} (lost {totals.Lost - ingestBefore.Lost}, duplicated {totals.Duplicated - ingestBefore.Duplicated}, "
                    + $"out of order {totals.OutOfOrder - ingestBefore.OutOfOrder})";
                accounting += sent == ackedTotal && ackedTotal == ingested ? ": sent == acked == ingested" : ": MISMATCH";
            }
            else
            {
                accounting += sent == ackedTotal ? ": sent == acked" : ": MISMATCH";
            }

            var failures = snapshot.Operations[Operations.Connect].FailuresByReason;
            if (failures.Count > 0)
            {
                accounting += "; connect failures (then retried): " + string.Join(", ", failures.Select(f => $"{f.Key} {f.Value}"));
            }

            accounting += $"; stop: {stopped.Stopped} stopped, timed out {stopped.TimedOut}";
            return new Result(name, n, connectSeconds, metrics.Counter(Counters.ConnectRetries).Value, sent, ackedTotal, ackedPerSecond,
                telemetry.P50Ms, telemetry.P99Ms, steady?.P50Ms ?? 0, steady?.P99Ms ?? 0, connect.P50Ms, connect.P99Ms, heapBefore, heapConnected, wsBefore, wsConnected,
                committedBefore, committedConnected, accounting);
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>
    /// Akka's HashedWheelTimerScheduler starts its worker on the first schedule call and blocks the calling thread
    /// (Task.Wait in Start) until it runs. When N fresh device actors schedule their first timers at once, every pool
    /// thread blocks there and the fleet crawls at the thread pool's injection rate (measured: 200 instant devices
    /// took 47 s to connect). One timer scheduled (and fired) first starts the worker outside the measurement.
    /// </summary>
    private static Task StartSchedulerAsync(ActorSystem system)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        system.Scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(1), () => fired.TrySetResult());
        return fired.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static (long Heap, long WorkingSet, long Committed) Memory()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var heap = GC.GetTotalMemory(forceFullCollection: false);
        using var process = Process.GetCurrentProcess();
        return (heap, process.WorkingSet64, GC.GetGCMemoryInfo().TotalCommittedBytes);
    }

    private static async Task PollAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"timed out waiting for: {what}");
            }

            await Task.Delay(10);
        }
    }

    private static double PerDevice(long before, long after, int n) => (after - before) / 1024.0 / n;

    private static void Print(Result r) =>
        Console.WriteLine($"- {r.Name}: connected {r.Devices} in {r.ConnectSeconds:0.00} s ({r.ConnectRetries} retries), "
            + $"{r.AckedPerSecond:0} acked msg/s, telemetry p50/p99 {r.WindowP50Ms:0.00}/{r.WindowP99Ms:0.00} ms in the window "
            + $"({r.TelemetryP50Ms:0.00}/{r.TelemetryP99Ms:0.00} ms whole run), "
            + $"heap {r.HeapBefore / 1048576.0:0.0} -> {r.HeapConnected / 1048576.0:0.0} MB, working set {r.WorkingSetBefore / 1048576.0:0.0} -> {r.WorkingSetConnected / 1048576.0:0.0} MB");

    private static void Row(string label, double baseline, double real, string format, double? baseline2 = null, double? real2 = null)
    {
        if (baseline2 is { } b2 && real2 is { } r2)
        {
            Console.WriteLine($"| {label} | {baseline.ToString(format)} / {b2.ToString(format)} | {real.ToString(format)} / {r2.ToString(format)} | {Ratio(real, baseline)} / {Ratio(r2, b2)} |");
        }
        else
        {
            Console.WriteLine($"| {label} | {baseline.ToString(format)} | {real.ToString(format)} | {Ratio(real, baseline)} |");
        }
    }

    private static string Ratio(double real, double baseline) => baseline > 0 ? (real / baseline).ToString("0.0##") + "x" : "n/a";
}
