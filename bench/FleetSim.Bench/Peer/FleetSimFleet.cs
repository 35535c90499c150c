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
/// per-second sampling, live view, reports).
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
            Telemetry = new TelemetryOptions { Interval = TimeSpan.FromSeconds(1 / a.RatePerDevice), MaxSendLag = TimeSpan.FromSeconds(1) },
            OperationTimeout = TimeSpan.FromSeconds(60),
            StopDrainTimeout = TimeSpan.FromSeconds(10),
            // As `fleetsim run` sets it (FleetPlanBuilder: the scenario's connectsInFlight, default 128 per core).
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
                stormSeconds = await RawMqttFleet.StormAsync(() => (int)connected.Value, () => 0, n);

            var snapshot = metrics.Snapshot();
            var steady = snapshot.Series[^1].Operations.TryGetValue(Operations.Telemetry, out var w) ? w : null;
            var failedWindow = steady?.Failed ?? 0;
            var lag = snapshot.Series[^1].Operations.TryGetValue(GeneratorMetrics.SendLag, out var l) ? l : null;
            var skipped = metrics.Counter(GeneratorMetrics.Skipped).Value;
            var result = new GeneratorResult(n, (int)connected.Value, connectSeconds, metrics.Counter(Counters.ConnectRetries).Value, sentWindow, ackedWindow,
                failedWindow, windowSeconds, steady?.P50Ms, steady?.P99Ms, lag?.P50Ms, lag?.P99Ms, stormSeconds,
                Note: $"generator.skipped {skipped}, connects in flight {options.ConnectSlots?.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unlimited"}, connect queue waits {metrics.Operation(DeviceMetrics.ConnectQueueName).OkCount}, {gc}");
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

    /// <summary>Starts Akka's scheduler worker before the devices do (see FleetBenchmark.StartSchedulerAsync).</summary>
    private static Task StartSchedulerAsync(ActorSystem system)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        system.Scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(1), () => fired.TrySetResult());
        return fired.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
