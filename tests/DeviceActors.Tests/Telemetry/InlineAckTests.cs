using System.Collections.Concurrent;
using Akka.Actor;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Tests.Fakes;
using FleetSim.DeviceActors.Transport;
using FleetSim.Metrics;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors.Tests.Telemetry;

/// <summary>
/// Devices on <see cref="SchedulerThreadDispatcher"/>: the thread on which a publish completes (MQTTnet's thread-pool
/// thread for the PUBACK; here a named test thread) runs the device's ack itself instead of queueing it to the pool,
/// and the accounting stays exact: every message acknowledged once, also when the old connection's PUBACK and the
/// re-send's PUBACK both arrive.
/// </summary>
public sealed class InlineAckTests : DeviceTestKit
{
    private const string PubAckThread = "fleetsim-test-puback";
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    [Fact]
    public void A_PUBACK_runs_the_device_on_the_completing_thread_which_sends_the_message_waiting_behind_the_window()
    {
        var (device, transport) = StartDevice(window: 1);
        AwaitAssert(() => Assert.Single(transport.Publishes), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10));

        const int rounds = 5;
        for (var round = 1; round <= rounds; round++)
        {
            Advance(device, Interval); // the next message is due and waits: the window of one is full
            AwaitAssert(() => Assert.Equal(1, Status(device).Queued), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10));
            var inFlight = transport.Publishes[round - 1];
            OnThread(PubAckThread, () => inFlight.Ack.SetResult());
            AwaitAssert(() => Assert.Equal(round + 1, transport.Publishes.Count), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10));
        }

        // The ack ran on the completing thread and published the next message from there (not from a thread-pool
        // worker it would have woken). A round may still go through the pool when the ack found the mailbox busy with
        // the test's status request; not all of them.
        Assert.Contains(transport.Publishes.Skip(1), p => p.Thread == PubAckThread);
        Assert.Equal(Enumerable.Range(1, rounds + 1).Select(i => (long)i), transport.Publishes.Select(p => p.Sequence));
        Assert.Equal(rounds, Count(Counters.TelemetryAcked));
        Assert.Equal(rounds + 1, Count(Counters.TelemetrySent));
        Assert.Equal(rounds, Metrics.Operation(Operations.Telemetry).OkCount);
    }

    [Fact]
    public void PUBACKs_of_the_old_connection_and_of_the_re_send_count_each_message_once()
    {
        var (device, transport) = StartDevice(window: 16);
        AwaitAssert(() => Assert.Single(transport.Publishes), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10));
        Advance(device, Interval);
        Advance(device, Interval);
        AwaitAssert(() => Assert.Equal(3, transport.Publishes.Count), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10));

        // The connection drops with three messages in flight; after the reconnect the device sends them again (paused
        // first: no new messages while virtual time runs through the backoff).
        device.Tell(new DeviceActor.SetPaused(true));
        transport.Drop(device);
        AwaitState(device, DeviceState.Backoff);
        Advance(device, TimeSpan.FromMinutes(1)); // the reconnect backoff
        AwaitAssert(() => Assert.Equal(6, transport.Publishes.Count), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10));

        // Both PUBACKs of each message arrive: the old connection's (late) and the re-send's, each on the completing thread.
        var publishes = transport.Publishes.ToArray();
        Assert.Equal(new long[] { 1, 2, 3, 1, 2, 3 }, publishes.Select(p => p.Sequence).ToArray());
        Assert.Equal(new[] { 1, 1, 1, 2, 2, 2 }, publishes.Select(p => p.Generation).ToArray());
        OnThread(PubAckThread, () =>
        {
            foreach (var p in publishes)
                p.Ack.SetResult();
        });

        var status = Status(device); // after every ack told above (they run inline or wait in the mailbox ahead of this)
        Assert.Equal(0, status.InFlight);
        Assert.Equal(3, Count(Counters.TelemetryAcked));
        Assert.Equal(3, Count(Counters.TelemetrySent));
        Assert.Equal(3, Count(DeviceMetrics.TelemetryResent));
        Assert.Equal(3, Metrics.Operation(Operations.Telemetry).OkCount);
    }

    private (IActorRef Device, CompletingTransport Transport) StartDevice(int window)
    {
        var options = Options(new TelemetryOptions { Interval = Interval, InFlightWindow = window });
        var transports = new CompletingTransportFactory();
        var device = ChildActorOf(DeviceActor.Props(Identity(), new DeviceGroup(options, DeviceMetrics, transports))
            .WithDispatcher(SchedulerThreadDispatcher.For(Sys)));
        device.Tell(new DeviceActor.Start(options.Time.GetTimestamp()));
        AwaitAssert(() => Assert.False(transports.Created.IsEmpty), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10));
        return (device, transports.Created.Single());
    }

    private static void OnThread(string name, Action action)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { Name = name, IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), $"{name} did not finish");
        Assert.Null(failure);
    }

    private sealed record Publish(long Sequence, int Generation, string? Thread, TaskCompletionSource Ack);

    private sealed class CompletingTransportFactory : IDeviceTransportFactory
    {
        public ConcurrentQueue<CompletingTransport> Created { get; } = new();

        public IDeviceTransport Create(DeviceIdentity identity, DeviceOptions options, DeviceTopics topics)
        {
            var transport = new CompletingTransport();
            Created.Enqueue(transport);
            return transport;
        }
    }

    /// <summary>
    /// Connects at once; a publish completes when the test says so, and its continuations run on the thread that
    /// completes it (no RunContinuationsAsynchronously), as they run on MQTTnet's thread after its own async hop.
    /// </summary>
    private sealed class CompletingTransport : IDeviceTransport
    {
        private readonly object _gate = new();
        private readonly List<Publish> _publishes = [];
        private int _generation;

        public IReadOnlyList<Publish> Publishes
        {
            get
            {
                lock (_gate)
                    return [.. _publishes];
            }
        }

        public void Drop(IActorRef device) =>
            device.Tell(new TransportDisconnected(Volatile.Read(ref _generation), FailureKind.Network, "dropped by test"));

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
            var publish = new Publish(sequence, Volatile.Read(ref _generation), Thread.CurrentThread.Name, new TaskCompletionSource());
            lock (_gate)
                _publishes.Add(publish);
            return publish.Ack.Task;
        }

        public Task AcknowledgeAsync(object ackHandle) => Task.CompletedTask;

        public Task DisconnectAsync() => Task.CompletedTask;

        public void Dispose()
        {
        }
    }
}
