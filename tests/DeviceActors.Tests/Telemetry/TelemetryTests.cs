using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Tests.Fakes;
using FleetSim.Protocol;
using FleetSim.Metrics;

namespace FleetSim.DeviceActors.Tests.Telemetry;

public sealed class TelemetryTests : DeviceTestKit
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private static TelemetryOptions Telemetry(int window = 16, int queue = 100, OfflinePolicy policy = OfflinePolicy.Queue) =>
        new() { Interval = Interval, InFlightWindow = window, OfflineQueueCapacity = queue, OfflinePolicy = policy };

    private FakeTransport Run(Akka.Actor.IActorRef device)
    {
        var call = Connect(device);
        return call.Transport;
    }

    [Fact]
    public void Telemetry_goes_at_QoS1_every_interval_with_increasing_sequence_and_sent_time()
    {
        var device = StartedDevice(Options(Telemetry()));
        Run(device);

        var first = Io.ExpectMsg<PublishCall>();
        Assert.True(first.AtLeastOnce);
        Assert.StartsWith("devices/d1/messages/events/fleetsim-seq=1&fleetsim-sent=", first.Topic);
        Assert.EndsWith("&%24.ct=application%2Fjson&%24.ce=utf-8", first.Topic);
        var sentAt = long.Parse(PropertyBag.Decode(first.Bag).Single(p => p.Key == FleetSimProperties.SentAt).Value!);
        Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - sentAt, 0, 5000);
        Assert.Equal("""{"temperature":21.5,"humidity":48}""", System.Text.Encoding.UTF8.GetString(first.Payload));
        first.Ack();

        Advance(device, Interval);
        var second = Io.ExpectMsg<PublishCall>();
        Assert.Equal(2, second.Sequence);
        second.Ack();

        AwaitAssert(() => Assert.Equal(2, Count(Counters.TelemetryAcked)));
        Assert.Equal(2, Count(Counters.TelemetrySent));
        Assert.Equal(2, Metrics.Operation(Operations.Telemetry).OkCount);
    }

    [Fact]
    public void A_device_resumed_on_another_node_continues_its_sequence_after_the_given_number()
    {
        var device = Device(Options(Telemetry()));
        device.Tell(new DeviceActor.Start(0, ResumeAfterSequence: 41), Akka.Actor.ActorRefs.NoSender);
        Run(device);

        var first = Io.ExpectMsg<PublishCall>();
        Assert.Equal(42, first.Sequence);
        first.Ack();
        Advance(device, Interval);
        Assert.Equal(43, Io.ExpectMsg<PublishCall>().Sequence);
    }

    [Fact]
    public void Start_jitter_delays_the_first_message_within_its_bound()
    {
        var device = StartedDevice(Options(Telemetry() with { StartJitter = TimeSpan.FromSeconds(10) }));
        Run(device);
        ExpectNoIo(device); // nothing at connect time...
        Advance(device, TimeSpan.FromSeconds(10));
        var first = Io.ExpectMsg<PublishCall>(); // ...but within the jitter bound
        Assert.Equal(1, first.Sequence);
        first.Ack();
        Advance(device, Interval);
        Assert.Equal(2, Io.ExpectMsg<PublishCall>().Sequence); // then at the interval
    }

    [Fact]
    public void Pausing_stops_telemetry_and_resuming_continues_the_sequence_at_a_new_interval()
    {
        var device = StartedDevice(Options(Telemetry()));
        Run(device);
        Io.ExpectMsg<PublishCall>().Ack();
        device.Tell(new DeviceActor.SetPaused(true), Akka.Actor.ActorRefs.NoSender);
        Advance(device, TimeSpan.FromSeconds(5));
        ExpectNoIo(device);

        device.Tell(new DeviceActor.SetTelemetryInterval(TimeSpan.FromSeconds(2)), Akka.Actor.ActorRefs.NoSender);
        device.Tell(new DeviceActor.SetPaused(false), Akka.Actor.ActorRefs.NoSender);
        Advance(device, TimeSpan.FromSeconds(1));
        ExpectNoIo(device); // the new interval is 2 s
        Advance(device, TimeSpan.FromSeconds(1));
        Assert.Equal(2, Io.ExpectMsg<PublishCall>().Sequence);
    }

    [Fact]
    public void The_in_flight_window_bounds_unacknowledged_messages()
    {
        var device = StartedDevice(Options(Telemetry(window: 2)));
        Run(device);
        var first = Io.ExpectMsg<PublishCall>();
        Advance(device, Interval);
        Io.ExpectMsg<PublishCall>();
        Advance(device, Interval);
        ExpectNoIo(device); // third waits: two unacknowledged
        Assert.Equal(1, Status(device).Queued);

        first.Ack();
        Assert.Equal(3, Io.ExpectMsg<PublishCall>().Sequence);
    }

    [Fact]
    public void A_publish_without_PUBACK_within_the_operation_timeout_makes_the_device_reconnect_and_resend()
    {
        var device = StartedDevice(Options(Telemetry()) with { OperationTimeout = TimeSpan.FromSeconds(5) });
        Run(device);
        var first = Io.ExpectMsg<PublishCall>(); // the hub went silent: no PUBACK, no error
        Advance(device, TimeSpan.FromSeconds(4.9)); // later messages go out meanwhile; the first has not waited 5 s yet
        AwaitAssert(() => Assert.Equal(DeviceState.Running, Status(device).State));

        Advance(device, TimeSpan.FromSeconds(0.2)); // 5.1 s after the first publish
        Io.FishForMessage(m => m is DisconnectCall, TimeSpan.FromSeconds(3));
        AwaitAssert(() => Assert.Equal(1, Count(DeviceMetrics.ConnectionLostPrefix + "timeout")));
        Advance(device, TimeSpan.FromMilliseconds(100));
        ((ConnectCall)Io.FishForMessage(m => m is ConnectCall, TimeSpan.FromSeconds(3))).Succeed();
        Assert.Equal(first.Sequence, ((PublishCall)Io.FishForMessage(m => m is PublishCall, TimeSpan.FromSeconds(3))).Sequence); // re-sent
    }

    [Fact]
    public void Messages_in_flight_at_a_disconnect_are_resent_with_the_same_sequence_after_reconnect()
    {
        var device = StartedDevice(Options(Telemetry()) with { GroupName = "g" });
        var transport = Run(device);
        var first = Io.ExpectMsg<PublishCall>();   // seq 1, never acknowledged
        Advance(device, Interval);
        Io.ExpectMsg<PublishCall>().Ack();        // seq 2 acknowledged
        AwaitAssert(() => Assert.Equal(1, Count(Counters.TelemetryAcked)));

        transport.DropConnection();
        first.Result.SetException(new MQTTnet.Exceptions.MqttClientDisconnectedException(new IOException("gone")));
        AwaitState(device, DeviceState.Backoff);
        Advance(device, TimeSpan.FromMilliseconds(100));
        Io.ExpectMsg<ConnectCall>().Succeed();

        var resent = Io.ExpectMsg<PublishCall>();
        Assert.Equal(1, resent.Sequence);
        Assert.Equal(first.Topic, resent.Topic); // same number, same sent time
        resent.Ack();
        Advance(device, Interval);
        Assert.Equal(3, Io.ExpectMsg<PublishCall>().Sequence);
        AwaitAssert(() => Assert.Equal(2, Count(Counters.TelemetryAcked)));
        Assert.Equal(3, Count(Counters.TelemetrySent));
        Assert.Equal(1, Count(DeviceMetrics.TelemetryResent));
        // One meaning per name: the group's "sent" counts first sends too, its re-sends have their own name.
        Assert.Equal(3, Count(GroupMetrics.TelemetrySent("g")));
        Assert.Equal(1, Count(GroupMetrics.TelemetryResent("g")));
    }

    [Fact]
    public void A_late_acknowledgement_from_the_old_connection_still_counts_once()
    {
        var device = StartedDevice(Options(Telemetry()));
        var transport = Run(device);
        var first = Io.ExpectMsg<PublishCall>();
        LoseConnection(device, transport);
        first.Ack(); // PUBACK raced the disconnect
        AwaitAssert(() => Assert.Equal(1, Count(Counters.TelemetryAcked)));

        Advance(device, TimeSpan.FromMilliseconds(100));
        Io.ExpectMsg<ConnectCall>().Succeed();
        AwaitState(device, DeviceState.Running);
        ExpectNoIo(device); // nothing to re-send
        Assert.Equal(0, Status(device).InFlight);
    }

    [Fact]
    public void Queue_policy_keeps_messages_while_disconnected_and_sends_them_in_order_after_reconnect()
    {
        var options = Options(Telemetry(queue: 10)) with { Retry = RetryPolicy.Fixed };
        var device = StartedDevice(options);
        var transport = Run(device);
        Io.ExpectMsg<PublishCall>().Ack();
        LoseConnection(device, transport);

        Advance(device, Interval);
        Advance(device, Interval);
        Advance(device, Interval);
        AwaitAssert(() => Assert.Equal(3, Status(device).Queued));
        Advance(device, TimeSpan.FromSeconds(7));
        Io.ExpectMsg<ConnectCall>().Succeed();

        var sequences = Enumerable.Range(0, 4).Select(_ => Io.ExpectMsg<PublishCall>().Sequence).ToArray();
        Assert.Equal([2, 3, 4, 5], sequences);
        Assert.Equal(0, Count(Counters.TelemetryDropped));
    }

    [Fact]
    public void Drop_policy_drops_and_counts_messages_while_disconnected_without_numbering_them()
    {
        var options = Options(Telemetry(policy: OfflinePolicy.Drop)) with { Retry = RetryPolicy.Fixed, GroupName = "g" };
        var device = StartedDevice(options);
        var transport = Run(device);
        Io.ExpectMsg<PublishCall>().Ack();
        LoseConnection(device, transport);

        Advance(device, Interval);
        Advance(device, Interval);
        AwaitAssert(() => Assert.Equal(2, Count(Counters.TelemetryDropped)));
        Assert.Equal(2, Count(GroupMetrics.TelemetryDropped("g")));
        Assert.Equal(0, Status(device).Queued);
        Advance(device, TimeSpan.FromSeconds(8));
        Io.ExpectMsg<ConnectCall>().Succeed();
        Advance(device, Interval);
        Assert.Equal(2, Io.ExpectMsg<PublishCall>().Sequence); // no gap for the hub to count as lost
    }

    [Fact]
    public void A_full_queue_drops_and_counts_the_newest_messages()
    {
        var options = Options(Telemetry(queue: 2)) with { Retry = RetryPolicy.Fixed };
        var device = StartedDevice(options);
        var transport = Run(device);
        Io.ExpectMsg<PublishCall>().Ack();
        LoseConnection(device, transport);

        for (var i = 0; i < 5; i++)
            Advance(device, Interval);
        AwaitAssert(() => Assert.Equal(3, Count(Counters.TelemetryDropped)));
        Assert.Equal(2, Status(device).Queued);
        Assert.Equal(3, Status(device).LastSequence);
    }

    [Fact]
    public void A_message_over_256_KB_is_not_sent_and_is_reported()
    {
        var big = new FixedPayload(new byte[MessageLimits.MaxMessageBytes]);
        var device = StartedDevice(Options(Telemetry() with { Payload = big }));
        Run(device);

        AwaitAssert(() => Assert.Equal(1, Count(DeviceMetrics.TelemetryTooLarge)));
        ExpectNoIo(device);
        Assert.Equal(0, Status(device).LastSequence);
        Assert.Equal(0, Count(Counters.TelemetrySent));
        Assert.Equal(1, Metrics.Operation(Operations.Telemetry).FailedCount);
    }

    /// <summary>Per-message properties: "n" is the sequence number written as a property, so each message differs.</summary>
    private sealed class SequenceProperty(int valueLength = 0) : ITelemetryProperties
    {
        public int Calls;

        public IReadOnlyList<KeyValuePair<string, string?>> Render(int deviceIndex, long sequence)
        {
            Calls++;
            return [new("n", sequence.ToString(System.Globalization.CultureInfo.InvariantCulture) + new string('x', valueLength))];
        }
    }

    [Fact]
    public void Per_message_properties_are_rendered_for_each_message_and_kept_for_its_resend()
    {
        var properties = new SequenceProperty();
        var device = StartedDevice(Options(Telemetry() with { Properties = [new("site", "north")], DynamicProperties = properties }));
        var transport = Run(device);
        var first = Io.ExpectMsg<PublishCall>();
        Assert.EndsWith("&site=north&n=1", first.Topic);
        Advance(device, Interval);
        var second = Io.ExpectMsg<PublishCall>();
        Assert.EndsWith("&site=north&n=2", second.Topic);

        LoseConnection(device, transport);
        Advance(device, TimeSpan.FromMilliseconds(100));
        Io.ExpectMsg<ConnectCall>().Succeed();
        var resent = Io.ExpectMsg<PublishCall>();
        Assert.Equal(first.Topic, resent.Topic); // same properties, not rendered again
        Assert.Equal(2, properties.Calls);
    }

    [Fact]
    public void Per_message_properties_count_towards_the_size_limit()
    {
        var body = new FixedPayload(new byte[MessageLimits.MaxMessageBytes - 1000]);
        var device = StartedDevice(Options(Telemetry() with { Payload = body, DynamicProperties = new SequenceProperty(valueLength: 2000) }));
        Run(device);

        AwaitAssert(() => Assert.Equal(1, Count(DeviceMetrics.TelemetryTooLarge)));
        ExpectNoIo(device);
    }

    [Fact]
    public void A_message_just_under_the_limit_is_sent()
    {
        // Body + the property names and values must fit: leave room for them.
        var body = new FixedPayload(new byte[MessageLimits.MaxMessageBytes - 200]);
        var device = StartedDevice(Options(Telemetry() with { Payload = body }));
        Run(device);

        Assert.Equal(1, Io.ExpectMsg<PublishCall>().Sequence);
    }

    [Fact]
    public void A_publish_that_fails_on_the_live_connection_reconnects_and_resends()
    {
        var device = StartedDevice(Options(Telemetry()));
        Run(device);
        var first = Io.ExpectMsg<PublishCall>();
        first.Result.SetException(new MQTTnet.Exceptions.MqttCommunicationTimedOutException());

        Io.ExpectMsg<DisconnectCall>();
        AwaitState(device, DeviceState.Backoff);
        Advance(device, TimeSpan.FromMilliseconds(100));
        Io.ExpectMsg<ConnectCall>().Succeed();
        Assert.Equal(1, Io.ExpectMsg<PublishCall>().Sequence);
        Assert.Equal(1, Count(DeviceMetrics.ErrorsPrefix + "publishFailed"));
    }

    [Fact]
    public void Stop_waits_for_in_flight_telemetry_then_disconnects()
    {
        var device = StartedDevice(Options(Telemetry()));
        Run(device);
        var first = Io.ExpectMsg<PublishCall>();

        BeginStop(device);
        ExpectNoIo(device);
        first.Ack();
        Io.ExpectMsg<DisconnectCall>();
        Assert.Equal("stopped", ExpectMsg<DeviceActor.DeviceStopped>().Reason);
        Assert.Equal(1, Count(Counters.TelemetryAcked));
        Assert.Equal(0, Count(DeviceMetrics.TelemetryUnacked));
    }

    [Fact]
    public void Stop_gives_up_on_missing_acknowledgements_at_the_drain_deadline()
    {
        var options = Options(Telemetry()) with { StopDrainTimeout = TimeSpan.FromSeconds(5) };
        var device = StartedDevice(options);
        Run(device);
        Io.ExpectMsg<PublishCall>();

        StopAtDrainDeadline(device, TimeSpan.FromSeconds(5));
        Assert.Equal(1, Count(DeviceMetrics.TelemetryUnacked));
    }

    [Fact]
    public void Extra_application_properties_are_appended_to_every_topic_encoded()
    {
        var telemetry = Telemetry() with
        {
            Properties = [new("region", "eu/west"), new("flag", null)],
            ContentType = null,
            ContentEncoding = null,
        };
        var device = StartedDevice(Options(telemetry));
        Run(device);

        var publish = Io.ExpectMsg<PublishCall>();
        Assert.EndsWith("&region=eu%2Fwest&flag", publish.Topic);
        Assert.DoesNotContain("%24.ct", publish.Topic);
    }

    [Fact]
    public void The_payload_factory_writes_each_body_for_the_device_index_and_sequence()
    {
        var device = StartedDevice(Options(Telemetry() with { Payload = new IndexAndSequence() }), new DeviceIdentity("d7", 7, Key));
        Run(device);

        Assert.Equal("7:1", System.Text.Encoding.UTF8.GetString(Io.ExpectMsg<PublishCall>().Payload));
        Advance(device, Interval);
        Assert.Equal("7:2", System.Text.Encoding.UTF8.GetString(Io.ExpectMsg<PublishCall>().Payload));
    }

    private sealed class IndexAndSequence : ITelemetryPayload
    {
        public int MaxLength => 40;

        public int Write(int deviceIndex, long sequence, Span<byte> destination) =>
            System.Text.Encoding.UTF8.GetBytes($"{deviceIndex}:{sequence}", destination);
    }
}
