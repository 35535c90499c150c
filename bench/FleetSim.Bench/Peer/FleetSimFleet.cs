using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using FleetSim.DeviceActors;
using FleetSim.DeviceActors.Fleet;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.Metrics;
using DeviceIdentity = FleetSim.DeviceActors.DeviceIdentity;

namespace FleetSim.Bench.Peer;

/// <summary>
/// FleetSim's device side in this process, as `fleetsim run` builds it: a FleetSupervisor of DeviceActors over the
/// production MqttDeviceTransport (MQTTnet 5, TLS, SAS), FleetMetrics recording, default JSON payload, QoS 1, one
/// message per device per period. Latency is FleetSim's own telemetry latency (intended send time to PUBACK) over
/// the window after every device connected. Not included: the scenario runner around it (YAML, registration,
/// per-second sampling, live view, reports). The connect-rate runs (no window: <c>--seconds 0</c>) give the devices no
/// telemetry, so that they only connect, as the raw client does before its window (FLEETSIM_BENCH_CONNECT_TELEMETRY=1
/// keeps it on: each device then sends from its connect on, as in `fleetsim run`).
/// </summary>
public static class FleetSimFleet
{
    public static async Task<int> RunAsync(GeneratorArgs a)
    {
        var devices = a.ReadDevices();
        var n = devices.Length;
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(a.CaPath));
        var identities = devices.Select((d, i) => new DeviceIdentity(d.Id, i, d.Key)).ToArray();
        var options = new DeviceOptions
        {
            HostName = a.HostName,
            EndpointHost = "127.0.0.1",
            EndpointPort = a.MqttPort,
            TrustedCa = ca,
            // As `fleetsim run` sets it (FleetPlanBuilder.GeneratorMaxSendLag): a message more than 1 s late is skipped.
            Telemetry = a.Seconds > 0 || ConnectTelemetry()
                ? new TelemetryOptions { Interval = TimeSpan.FromSeconds(1 / a.RatePerDevice), MaxSendLag = TimeSpan.FromSeconds(1) }
                : null,
            OperationTimeout = TimeSpan.FromSeconds(60),
            StopDrainTimeout = TimeSpan.FromSeconds(10),
            // As `fleetsim run` sets it (FleetPlanBuilder: the scenario's connectsInFlight, default ConnectSlots.DefaultPerCore per core).
            ConnectSlots = ConnectsInFlight() is var limit and > 0 ? new ConnectSlots(limit) : null,
        };
        var metrics = new FleetMetrics();
        var system = ActorSystem.Create("peer", "akka.loglevel = WARNING");
        try
        {
            await StartSchedulerAsync(system);
            var fleet = system.ActorOf(FleetSupervisor.Props(metrics, null), "fleet");
            Console.WriteLine($"{GeneratorResult.StartingLine} {GeneratorArgs.OwnRss()}");
            var clock = Stopwatch.StartNew();
            var created = await fleet.Ask<object>(new FleetSupervisor.StartDevices(identities, options, a.ConnectRate), TimeSpan.FromMinutes(2));
            if (created is not FleetSupervisor.DevicesCreated)
                throw new InvalidOperationException($"fleet did not start: {created}");

            var connected = metrics.Gauge(Gauges.DevicesConnected);
            var deadline = Stopwatch.StartNew();
            while (connected.Value < n)
            {
                if (deadline.Elapsed > TimeSpan.FromMinutes(5))
                    throw new TimeoutException($"only {connected.Value} of {n} devices connected within 5 minutes");
                await Task.Delay(5);
            }

            var connectSeconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine(GeneratorResult.ReadyLine);
            var acked = metrics.Counter(Counters.TelemetryAcked);
            var sent = metrics.Counter(Counters.TelemetrySent);
            var (ackedBefore, sentBefore) = (acked.Value, sent.Value);
            metrics.Sample(DateTimeOffset.UtcNow); // closes the ramp-up interval: the next sample is the window alone
            var gcBefore = GcSnapshot.Take();
            var window = Stopwatch.StartNew();
            if (a.Seconds > 0)
                await Task.Delay(TimeSpan.FromSeconds(a.Seconds));
            var windowSeconds = window.Elapsed.TotalSeconds;
            var (ackedWindow, sentWindow) = (acked.Value - ackedBefore, sent.Value - sentBefore);
            var gc = GcSnapshot.Take().Since(gcBefore, ackedWindow, window.Elapsed);
            metrics.Sample(DateTimeOffset.UtcNow);
            Console.WriteLine(GeneratorResult.WindowEndLine);

            double? stormSeconds = null;
            if (a.Storm)
            {
                stormSeconds = await RawMqttFleet.StormAsync(() => (int)connected.Value, () => 0, n);
                Console.WriteLine(GeneratorResult.StormEndLine);
            }

            var snapshot = metrics.Snapshot();
            var steady = snapshot.Series[^1].Operations.TryGetValue(Operations.Telemetry, out var w) ? w : null;
            var failedWindow = steady?.Failed ?? 0;
            var lag = snapshot.Series[^1].Operations.TryGetValue(GeneratorMetrics.SendLag, out var l) ? l : null;
            var skipped = metrics.Counter(GeneratorMetrics.Skipped).Value;
            // Failed connect attempts, as the raw client counts its retries (the connect.retries counter also counts the
            // backoff after each loss, so a storm would show N more).
            var failedAttempts = metrics.Counter(RecoveryMetrics.ConnectAttempts).Value - metrics.Operation(Operations.Connect).OkCount
                - metrics.Operation(Operations.Reconnect).OkCount;
            var result = new GeneratorResult(n, (int)connected.Value, connectSeconds, failedAttempts, sentWindow, ackedWindow,
                failedWindow, windowSeconds, steady?.P50Ms, steady?.P99Ms, lag?.P50Ms, lag?.P99Ms, stormSeconds,
                Note: $"generator.skipped {skipped}, connects in flight {options.ConnectSlots?.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unlimited"}, connect queue waits {metrics.Operation(DeviceMetrics.ConnectQueueName).OkCount}, {gc}, "
                      + ConnectNote(snapshot, metrics, a.Storm));
            await fleet.Ask<FleetSupervisor.AllStopped>(new FleetSupervisor.StopAll(TimeSpan.FromSeconds(60)), TimeSpan.FromSeconds(90));
            Console.WriteLine(result.ToLine());
            return 0;
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>
    /// FLEETSIM_BENCH_CONNECTS_IN_FLIGHT (to compare limits side by side): a number, or 0 for no limit; unset: the
    /// default of `fleetsim run`.
    /// </summary>
    private static int ConnectsInFlight() =>
        int.TryParse(Environment.GetEnvironmentVariable("FLEETSIM_BENCH_CONNECTS_IN_FLIGHT"), out var limit) && limit >= 0 ? limit : ConnectSlots.DefaultLimit;

    /// <summary>
    /// Connect latency (intended start to CONNACK) and, after a storm, reconnect latency (loss to CONNACK, the backoff
    /// wait included) with the backoff waits the retry policy drew: what the policy allowed against what the handshakes took.
    /// </summary>
    private static string ConnectNote(MetricsSnapshot snapshot, FleetMetrics metrics, bool storm)
    {
        static string Latency(MetricsSnapshot s, string operation) => s.Operations.TryGetValue(operation, out var o) && o.Latency.Count > 0
            ? FormattableString.Invariant($"{operation} p50/p99/max {o.Latency.P50Ms:0}/{o.Latency.P99Ms:0}/{o.Latency.MaxMs:0} ms")
            : $"{operation} n/a";
        var note = Latency(snapshot, Operations.Connect);
        if (!storm)
            return note;
        var backoffs = metrics.Counter(Counters.ConnectRetries).Value;
        var waited = metrics.Counter(DeviceMetrics.RetryWaitMs).Value;
        return note + ", " + Latency(snapshot, Operations.Reconnect)
            + FormattableString.Invariant($", {backoffs} backoffs waited {waited} ms in all (mean {(backoffs > 0 ? waited / (double)backoffs : 0):0.0} ms)");
    }

    /// <summary>FLEETSIM_BENCH_CONNECT_TELEMETRY=1: the connect-rate runs send telemetry from each connect on (before this, they always did).</summary>
    private static bool ConnectTelemetry() => Environment.GetEnvironmentVariable("FLEETSIM_BENCH_CONNECT_TELEMETRY") == "1";

    /// <summary>Starts Akka's scheduler worker before the devices do (see FleetBenchmark.StartSchedulerAsync).</summary>
    private static Task StartSchedulerAsync(ActorSystem system)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        system.Scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(1), () => fired.TrySetResult());
        return fired.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
