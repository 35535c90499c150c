using System.Diagnostics;
using Akka.Actor;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Tests.Fakes;
using FleetSim.DeviceActors.Transport;
using FleetSim.Metrics;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors.Tests.Telemetry;

/// <summary>The generator's own timing: send lag, catching up, and the generator's limit (skipped, not queued).</summary>
public sealed class SendLagTests : DeviceTestKit
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    [Fact]
    public void Send_lag_is_measured_from_each_message_s_intended_time_to_when_the_device_made_it()
    {
        var device = StartedDevice(Options(new TelemetryOptions { Interval = Interval }));
        Connect(device);
        Assert.Equal(1, Io.ExpectMsg<PublishCall>().Sequence); // on time: lag 0

        // Three intervals pass before the device gets to run (virtual time jumps): messages 2, 3, 4 go out together,
        // 2 s, 1 s and 0 s after their intended times, in order, and nothing is lost.
        Advance(device, TimeSpan.FromSeconds(3));
        Assert.Equal([2L, 3L, 4L], Enumerable.Range(0, 3).Select(_ => Io.ExpectMsg<PublishCall>().Sequence));
        AwaitAssert(() => Assert.Equal(4, Metrics.Operation(GeneratorMetrics.SendLag).OkCount));
        var lag = Metrics.Snapshot().Operations[GeneratorMetrics.SendLag].Latency;
        Assert.InRange(lag.MaxMs, 1990, 2010);
        Assert.InRange(lag.P50Ms, 0, 0.01);
        Assert.Equal(0, Count(GeneratorMetrics.Skipped));
    }

    [Fact]
    public void A_device_behind_by_more_than_the_max_send_lag_skips_and_counts_what_it_is_too_late_to_make()
    {
        var device = StartedDevice(Options(new TelemetryOptions { Interval = Interval, MaxSendLag = TimeSpan.FromSeconds(2) }));
        Connect(device);
        Assert.Equal(1, Io.ExpectMsg<PublishCall>().Sequence);

        Advance(device, TimeSpan.FromSeconds(10));
        // Intended 1..10 s: lags 9..0 s. Those more than 2 s late (7) are skipped; the last three go, numbered on
        // (a skipped message never had a number, so the hub sees no gap).
        Assert.Equal([2L, 3L, 4L], Enumerable.Range(0, 3).Select(_ => Io.ExpectMsg<PublishCall>().Sequence));
        ExpectNoIo(device);
        Assert.Equal(7, Count(GeneratorMetrics.Skipped));
        Assert.Equal(0, Count(Counters.TelemetryDropped));
        Assert.Equal(0, Status(device).Queued);
    }
}

/// <summary>Runs alone (real time, and its device holds a thread): tests in parallel would slow it and it them.</summary>
[CollectionDefinition(nameof(RealTimeCollection), DisableParallelization = true)]
public sealed class RealTimeCollection;

/// <summary>The generator's limit in real time, on the precise scheduler, with a transport slower than the asked rate.</summary>
[Collection(nameof(RealTimeCollection))]
public sealed class GeneratorLimitTests : DeviceTestKit
{
    [Fact]
    public void A_generator_slower_than_the_asked_rate_reports_its_shortfall_and_keeps_its_queues_empty()
    {
        // A transport that costs 5 ms of the device's time per publish, asked for one message every 1 ms: the device
        // can make at most ~200 msg/s of the 1,000 asked. Real time, on the precise scheduler.
        using var scheduler = new PreciseTelemetryScheduler();
        var options = Options(new TelemetryOptions { Interval = TimeSpan.FromMilliseconds(1), MaxSendLag = TimeSpan.FromMilliseconds(50) })
            with { Time = TimeProvider.System, TelemetryScheduler = scheduler };
        var device = ChildActorOf(DeviceActor.Props(Identity(), new DeviceGroup(options, DeviceMetrics, new SlowTransportFactory(TimeSpan.FromMilliseconds(5)))));
        var clock = Stopwatch.StartNew();
        device.Tell(new DeviceActor.Start(options.Time.GetTimestamp()));

        AwaitAssert(() => Assert.True(Count(GeneratorMetrics.Skipped) > 500, $"skipped {Count(GeneratorMetrics.Skipped)}"),
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(20));
        var status = Status(device);
        var asked = clock.Elapsed.TotalMilliseconds; // one per ms
        var made = Count(Counters.TelemetrySent);
        var skipped = Count(GeneratorMetrics.Skipped);

        Assert.True(made > 0);
        Assert.True(made < asked / 2, $"made {made} of {asked:0} asked: the slow transport should have limited it");
        Assert.True(made + skipped <= asked + 1, $"made {made} + skipped {skipped} > asked {asked:0}");
        Assert.True(status.Queued <= 16, $"queued {status.Queued}: the shortfall is counted, not queued");
        Assert.Equal(0, Count(Counters.TelemetryDropped));
        Assert.True(Metrics.Snapshot().Operations[GeneratorMetrics.SendLag].Latency.MaxMs <= 50 + 5 * 2 + 50,
            "a made message is at most the max send lag late, plus the publish in progress (and load slack)");
    }

    private sealed class SlowTransportFactory(TimeSpan perPublish) : IDeviceTransportFactory
    {
        public IDeviceTransport Create(DeviceIdentity identity, DeviceOptions options, DeviceTopics topics) => new SlowTransport(perPublish);
    }

    /// <summary>Connects at once; every publish holds the calling thread (as a slow client's work would), then is acknowledged.</summary>
    private sealed class SlowTransport(TimeSpan perPublish) : IDeviceTransport
    {
        private int _generation;

        public void Attach(IActorRef device)
        {
        }

        public Task<ConnectOutcome> ConnectAsync(string? password) =>
            Task.FromResult(ConnectOutcome.Connected(Interlocked.Increment(ref _generation), sessionPresent: false));

        public Task SubscribeAsync(Subscriptions which) => Task.CompletedTask;

        public Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, bool atLeastOnce)
        {
            Thread.Sleep(perPublish); // the device's thread is held as by slow work (a sleep, not a spin: other tests share the cores)
            return Task.CompletedTask;
        }

        public Task AcknowledgeAsync(object ackHandle) => Task.CompletedTask;

        public Task DisconnectAsync() => Task.CompletedTask;

        public void Dispose()
        {
        }
    }
}

/// <summary>The process-wide scheduler, in real time with generous deadlines (its precision is a benchmark, not a test).</summary>
public sealed class PreciseTelemetrySchedulerTests : Akka.TestKit.Xunit2.TestKit
{
    [Fact]
    public void Wakes_a_device_again_only_after_it_took_the_previous_wake_up_and_never_after_cancel()
    {
        using var scheduler = new PreciseTelemetryScheduler();
        var period = Stopwatch.Frequency / 100; // 10 ms
        var registration = scheduler.Schedule(TestActor, Stopwatch.GetTimestamp(), period);

        var first = ExpectMsg<TelemetryWakeUp>(TimeSpan.FromSeconds(5));
        Assert.Same(registration, first.Registration);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // 20 periods pass, but the first is still "in the mailbox"

        registration.Taken();
        ExpectMsg<TelemetryWakeUp>(TimeSpan.FromSeconds(5));
        registration.Cancel();
        registration.Taken();
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_registration_due_before_the_one_the_thread_waits_for_interrupts_the_wait()
    {
        using var scheduler = new PreciseTelemetryScheduler();
        var late = CreateTestProbe();
        scheduler.Schedule(late.Ref, Stopwatch.GetTimestamp() + Stopwatch.Frequency * 3600, Stopwatch.Frequency);
        AwaitCondition(() => scheduler.Count == 1);

        var clock = Stopwatch.StartNew();
        scheduler.Schedule(TestActor, Stopwatch.GetTimestamp() + Stopwatch.Frequency / 100, Stopwatch.Frequency * 3600);
        ExpectMsg<TelemetryWakeUp>(TimeSpan.FromSeconds(10));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(9), $"woke after {clock.Elapsed.TotalMilliseconds} ms, before its due time");
        late.ExpectNoMsg(TimeSpan.Zero);
    }
}
