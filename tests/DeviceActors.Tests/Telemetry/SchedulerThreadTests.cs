using System.Collections.Concurrent;
using Akka.Actor;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Tests.Fakes;
using FleetSim.DeviceActors.Transport;
using FleetSim.Metrics;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors.Tests.Telemetry;

/// <summary>
/// Devices on <see cref="SchedulerThreadDispatcher"/>: a wake-up of the precise scheduler runs the device on the
/// scheduler's thread (no thread-pool hop), and the accounting stays exact across a lost connection.
/// </summary>
[Collection(nameof(RealTimeCollection))]
public sealed class SchedulerThreadTests : DeviceTestKit
{
    private const string SchedulerThread = "fleetsim-telemetry";

    [Fact]
    public void A_woken_device_publishes_on_the_scheduler_thread_and_after_a_drop_re_sends_what_was_in_flight_once_with_no_gap()
    {
        using var scheduler = new PreciseTelemetryScheduler();
        var options = Options(new TelemetryOptions { Interval = TimeSpan.FromMilliseconds(20), MaxSendLag = TimeSpan.FromSeconds(30) })
            with { Time = TimeProvider.System, TelemetryScheduler = scheduler };
        var transports = new RecordingTransportFactory();
        var device = ChildActorOf(DeviceActor.Props(Identity(), new DeviceGroup(options, DeviceMetrics, transports))
            .WithDispatcher(SchedulerThreadDispatcher.For(Sys)));
        device.Tell(new DeviceActor.Start(options.Time.GetTimestamp()));
        AwaitAssert(() => Assert.False(transports.Created.IsEmpty), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10));
        var transport = transports.Created.Single();

        // Connected and sending: the wake-ups run the device on the scheduler's thread (the first message, sent when
        // the connect completes, may go from the thread pool).
        AwaitAssert(() => Assert.True(transport.Publishes.Count >= 10, $"{transport.Publishes.Count} published"), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(20));
        Assert.Contains(transport.Publishes, p => p.Thread == SchedulerThread);

        // PUBACKs stop coming; then the connection drops with messages in flight (their publishes fail, as MQTTnet's do).
        transport.HoldAcks();
        AwaitAssert(() => Assert.True(transport.Held >= 3, $"{transport.Held} held"), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(20));
        var held = transport.Drop(device);
        AwaitState(device, DeviceState.Backoff);
        Advance(device, TimeSpan.FromMinutes(1)); // the reconnect backoff (Akka timers, virtual time)
        // Re-sent and the backlog of the outage sent (from the connect's completion), then woken on the scheduler's thread again.
        AwaitAssert(() => Assert.Contains(transport.Publishes, p => p.Generation == 2 && p.Thread == SchedulerThread),
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(20));
        device.Tell(new DeviceActor.SetPaused(true));
        AwaitAssert(() => Assert.Equal(Count(Counters.TelemetrySent), Count(Counters.TelemetryAcked)), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(20));

        var publishes = transport.Publishes.ToArray();
        var sent = Count(Counters.TelemetrySent);
        var bySequence = publishes.GroupBy(p => p.Sequence).ToDictionary(g => g.Key, g => g.Select(p => p.Generation).ToArray());
        Assert.Equal(Enumerable.Range(1, (int)sent).Select(i => (long)i), bySequence.Keys.Order()); // numbered 1..n, no gap
        foreach (var sequence in held)
            Assert.Equal([1, 2], bySequence[sequence]); // in flight at the drop: sent again once, on the new connection
        Assert.All(bySequence.Where(kv => !held.Contains(kv.Key)), kv => Assert.Single(kv.Value)); // everything else once
        Assert.Equal(held.Count, Count(RecoveryMetrics.TelemetryResent));
        Assert.Equal(0, Count(GeneratorMetrics.Skipped));
        Assert.Equal(0, Count(Counters.TelemetryDropped));
    }

    private sealed record Publish(long Sequence, int Generation, string? Thread);

    private sealed class RecordingTransportFactory : IDeviceTransportFactory
    {
        public ConcurrentQueue<RecordingTransport> Created { get; } = new();

        public IDeviceTransport Create(DeviceIdentity identity, DeviceOptions options, DeviceTopics topics)
        {
            var transport = new RecordingTransport();
            Created.Enqueue(transport);
            return transport;
        }
    }

    /// <summary>Connects at once; acknowledges every publish at once unless told to hold the PUBACKs.</summary>
    private sealed class RecordingTransport : IDeviceTransport
    {
        private readonly object _gate = new();
        private readonly List<(long Sequence, TaskCompletionSource Ack)> _held = [];
        private int _generation;
        private bool _hold;

        public ConcurrentQueue<Publish> Publishes { get; } = new();

        public int Held
        {
            get
            {
                lock (_gate)
                    return _held.Count;
            }
        }

        public void HoldAcks()
        {
            lock (_gate)
                _hold = true;
        }

        /// <summary>The connection drops: the held publishes fail, later ones are acknowledged; returns the held sequences.</summary>
        public HashSet<long> Drop(IActorRef device)
        {
            List<(long Sequence, TaskCompletionSource Ack)> held;
            lock (_gate)
            {
                _hold = false;
                held = [.. _held];
                _held.Clear();
            }

            device.Tell(new TransportDisconnected(_generation, FailureKind.Network, "dropped by test"));
            foreach (var (_, ack) in held)
                ack.TrySetException(new InvalidOperationException("connection lost"));
            return held.Select(h => h.Sequence).ToHashSet();
        }

        public void Attach(IActorRef device)
        {
        }

        public Task<ConnectOutcome> ConnectAsync(string? password) =>
            Task.FromResult(ConnectOutcome.Connected(Interlocked.Increment(ref _generation), sessionPresent: false));

        public Task SubscribeAsync(Subscriptions which) => Task.CompletedTask;

        public Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, bool atLeastOnce)
        {
            var bag = topic[(topic.LastIndexOf('/') + 1)..];
            var sequence = PropertyBag.TryGetValue(bag, FleetSimProperties.Sequence, out var v) ? long.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : -1;
            Publishes.Enqueue(new Publish(sequence, Volatile.Read(ref _generation), Thread.CurrentThread.Name));
            lock (_gate)
            {
                if (!_hold)
                    return Task.CompletedTask;
                var ack = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _held.Add((sequence, ack));
                return ack.Task;
            }
        }

        public Task AcknowledgeAsync(object ackHandle) => Task.CompletedTask;

        public Task DisconnectAsync() => Task.CompletedTask;

        public void Dispose()
        {
        }
    }
}
