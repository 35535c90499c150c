using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using FleetSim.DeviceActors;
using FleetSim.DeviceActors.Fleet;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.HubEmulator;
using FleetSim.Metrics;
using DeviceIdentity = FleetSim.DeviceActors.DeviceIdentity;

namespace FleetSim.Bench;

/// <summary>
/// The generator's own cost, side by side in one process: N devices sending every interval (start jitter over one
/// interval, as scenarios spread them), woken by Akka timers (the 10 ms scheduler tick, as before the precise
/// scheduler) and by the precise telemetry scheduler, each over the instant fake transport (the actor alone) and over
/// MQTT/TLS to the in-process hub. Per variant: send lag (intended -> made), telemetry latency (intended -> PUBACK),
/// acked msg/s and process CPU per 1,000 messages and per second per 1,000 devices in a steady window.
/// </summary>
public static class SendLagBenchmark
{
    private sealed record Result(string Name, double AckedPerSecond, LatencyStats Lag, LatencyStats Telemetry, double CpuMsPer1000, double CpuMsPerSecondPer1000Devices, long Skipped);

    /// <summary>A TimeProvider that is the system clock but not <see cref="TimeProvider.System"/>: devices on it use Akka timers.</summary>
    private sealed class SystemClockOnAkkaTimers : TimeProvider;

    public static async Task RunAsync(int devices, int seconds, int intervalMs, bool real)
    {
        var interval = TimeSpan.FromMilliseconds(intervalMs);
        Console.WriteLine($"## Send lag: {devices} devices, telemetry every {intervalMs} ms, {seconds} s window, start jitter one interval");
        await RunOnceAsync("warm-up", 50, 1, interval, hub: null, precise: true);
        var results = new List<Result>
        {
            await RunOnceAsync("fake transport, Akka timers", devices, seconds, interval, hub: null, precise: false),
            await RunOnceAsync("fake transport, precise scheduler", devices, seconds, interval, hub: null, precise: true),
        };
        if (real)
        {
            var hub = await IoTHubEmulator.StartAsync(new HubEmulatorOptions { MqttPort = 0, HttpsPort = 0 });
            try
            {
                await RunOnceAsync("warm-up", 50, 1, interval, hub, precise: true, prefix: "warm");
                results.Add(await RunOnceAsync("MQTT/TLS + in-process hub, Akka timers", devices, seconds, interval, hub, precise: false, prefix: "akka"));
                results.Add(await RunOnceAsync("MQTT/TLS + in-process hub, precise scheduler", devices, seconds, interval, hub, precise: true, prefix: "precise"));
            }
            finally
            {
                await hub.DisposeAsync();
            }
        }

        Console.WriteLine();
        Console.WriteLine("| variant | acked msg/s | send lag p50 / p99 (window) / max (whole run) (ms) | telemetry p50 / p99 (ms) | CPU ms per 1,000 msgs | CPU ms/s per 1,000 devices | skipped |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            Console.WriteLine($"| {r.Name} | {r.AckedPerSecond:0} | {r.Lag.P50Ms:0.000} / {r.Lag.P99Ms:0.000} / {r.Lag.MaxMs:0.0} | "
                + $"{r.Telemetry.P50Ms:0.000} / {r.Telemetry.P99Ms:0.000} | {r.CpuMsPer1000:0.0} | {r.CpuMsPerSecondPer1000Devices:0.0} | {r.Skipped} |");
        }

        Console.WriteLine();
    }

    private static async Task<Result> RunOnceAsync(string name, int n, int seconds, TimeSpan interval, IoTHubEmulator? hub, bool precise, string prefix = "lag")
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
            Telemetry = new TelemetryOptions { Interval = interval, StartJitter = interval, MaxSendLag = TimeSpan.FromSeconds(1) },
            OperationTimeout = TimeSpan.FromSeconds(60),
            StopDrainTimeout = TimeSpan.FromSeconds(10),
            Time = precise ? TimeProvider.System : new SystemClockOnAkkaTimers(),
        };
        var metrics = new FleetMetrics();
        var system = ActorSystem.Create("bench", "akka.loglevel = WARNING");
        try
        {
            var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            system.Scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(1), () => fired.TrySetResult()); // start Akka's timer thread first
            await fired.Task.WaitAsync(TimeSpan.FromSeconds(10));
            var fleet = system.ActorOf(FleetSupervisor.Props(metrics, hub is null ? new InstantTransportFactory() : null), "fleet");
            var created = await fleet.Ask<object>(new FleetSupervisor.StartDevices(identities, options, 0), TimeSpan.FromMinutes(2));
            if (created is not FleetSupervisor.DevicesCreated)
                throw new InvalidOperationException($"fleet did not start: {created}");
            var connected = metrics.Gauge(Gauges.DevicesConnected);
            var deadline = Stopwatch.StartNew();
            while (connected.Value < n)
            {
                if (deadline.Elapsed > TimeSpan.FromMinutes(5))
                    throw new TimeoutException($"{name}: not all {n} connected");
                await Task.Delay(20);
            }

            await Task.Delay(interval + TimeSpan.FromSeconds(1)); // every device past its jitter: a steady window
            var acked = metrics.Counter(Counters.TelemetryAcked);
            var ackedBefore = acked.Value;
            metrics.Sample(DateTimeOffset.UtcNow);
            using var process = Process.GetCurrentProcess();
            var cpuBefore = process.TotalProcessorTime;
            var gcBefore = GcSnapshot.Take();
            var window = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            process.Refresh();
            var cpu = (process.TotalProcessorTime - cpuBefore).TotalMilliseconds;
            var elapsed = window.Elapsed.TotalSeconds;
            var messages = acked.Value - ackedBefore;
            var gc = GcSnapshot.Take().Since(gcBefore, messages, window.Elapsed);
            metrics.Sample(DateTimeOffset.UtcNow);

            await fleet.Ask<FleetSupervisor.AllStopped>(new FleetSupervisor.StopAll(TimeSpan.FromSeconds(60)), TimeSpan.FromSeconds(90));
            var snapshot = metrics.Snapshot();
            var result = new Result(
                name,
                messages / elapsed,
                WindowStats(snapshot, GeneratorMetrics.SendLag),
                WindowStats(snapshot, Operations.Telemetry),
                messages > 0 ? cpu / messages * 1000 : 0,
                cpu / elapsed / n * 1000,
                metrics.Counter(GeneratorMetrics.Skipped).Value);
            Console.WriteLine($"- {name}: {result.AckedPerSecond:0} acked msg/s, send lag p50/p99/max {result.Lag.P50Ms:0.000}/{result.Lag.P99Ms:0.000}/{result.Lag.MaxMs:0.0} ms, "
                + $"telemetry p50/p99 {result.Telemetry.P50Ms:0.000}/{result.Telemetry.P99Ms:0.000} ms, CPU {result.CpuMsPer1000:0.0} ms per 1,000 msgs, {gc}");
            return result;
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>The steady window's latency (the last sample covers it alone), as whole-run stats of that interval.</summary>
    private static LatencyStats WindowStats(MetricsSnapshot snapshot, string operation)
    {
        var sample = snapshot.Series[^1].Operations.TryGetValue(operation, out var s) ? s : null;
        var whole = snapshot.Operations.TryGetValue(operation, out var op) ? op.Latency : LatencyStats.Empty;
        return sample is null ? LatencyStats.Empty : whole with { P50Ms = sample.P50Ms ?? 0, P99Ms = sample.P99Ms ?? 0 };
    }
}
