using FleetSim.DeviceActors.Tests.Fakes;
using FleetSim.DeviceActors.Transport;
using FleetSim.Protocol;
using FleetSim.Metrics;

namespace FleetSim.DeviceActors.Tests.Connection;

public sealed class ConnectionTests : DeviceTestKit
{
    [Fact]
    public void Device_connects_with_a_SAS_token_minted_from_its_key_and_runs()
    {
        var device = StartedDevice(Options());

        var call = Io.ExpectMsg<ConnectCall>();
        var token = SasToken.Parse(call.Password!);
        Assert.Equal("hub.test/devices/d1", token.Resource);
        Assert.True(token.IsSignatureValid(Key));
        var ttl = token.ExpiresAt - DateTimeOffset.UtcNow;
        Assert.InRange(ttl.TotalSeconds, 3590, 3600);

        call.Succeed();
        AwaitState(device, DeviceState.Running);
        Assert.Equal(1, Metrics.Operation(Operations.Connect).OkCount);
        Assert.Equal(1, Metrics.Gauge(Gauges.DevicesConnected).Value);
    }

    [Fact]
    public void Device_subscribes_to_what_its_behaviours_need_when_the_hub_has_no_session()
    {
        var options = Options() with { C2d = new(), Methods = new() };
        var device = StartedDevice(options);
        Connect(device, sessionPresent: false);

        var subscribe = Io.ExpectMsg<SubscribeCall>();
        Assert.Equal(Subscriptions.C2d | Subscriptions.Methods, subscribe.Which);
        Assert.Equal(DeviceState.Subscribing, Status(device).State);
        subscribe.Result.SetResult();
        AwaitState(device, DeviceState.Running);
    }

    private sealed class RecordingObserver : IConnectionObserver
    {
        public volatile bool IsConnected;

        public void Connected(int deviceIndex) => IsConnected = true;

        public void Disconnected(int deviceIndex) => IsConnected = false;
    }

    [Fact]
    public void Service_load_learns_a_device_is_connected_only_after_its_subscriptions_are_acknowledged()
    {
        // Before the SUBACK the hub answers a direct method with 404 "device not online": a method aimed then would fail.
        var observer = new RecordingObserver();
        var device = StartedDevice(Options() with { Methods = new(), ConnectionObserver = observer });
        Connect(device, sessionPresent: false);

        var subscribe = Io.ExpectMsg<SubscribeCall>();
        Assert.Equal(DeviceState.Subscribing, Status(device).State);
        Assert.False(observer.IsConnected);
        subscribe.Result.SetResult();
        AwaitState(device, DeviceState.Running);
        Assert.True(observer.IsConnected);

        subscribe.Transport.DropConnection();
        AwaitAssert(() => Assert.False(observer.IsConnected));
    }

    [Fact]
    public void Device_skips_subscribing_when_the_hub_kept_its_session()
    {
        var device = StartedDevice(Options() with { C2d = new() });
        Connect(device, sessionPresent: true);

        AwaitState(device, DeviceState.Running);
        ExpectNoIo(device);
    }

    [Fact]
    public void Unauthorized_device_stops_without_any_retry()
    {
        var device = StartedDevice(Options());
        Io.ExpectMsg<ConnectCall>().Refuse(FailureKind.Unauthorized);

        var stopped = ExpectMsg<DeviceActor.DeviceStopped>();
        Assert.Equal("unauthorized", stopped.Reason);
        Assert.Equal(DeviceState.Stopped, Status(device).State);
        Advance(device, TimeSpan.FromMinutes(10));
        ExpectNoIo(device);
        Assert.Equal(0, Count(Counters.ConnectRetries));
        Assert.Equal(1, Metrics.Operation(Operations.Connect).FailedCount);
    }

    [Fact]
    public void Server_unavailable_is_retried_after_the_throttled_wait()
    {
        var device = StartedDevice(Options());
        Io.ExpectMsg<ConnectCall>().Refuse(FailureKind.Throttled);
        AwaitState(device, DeviceState.Backoff);

        // Throttled: first wait is exactly the throttled base (10 s), never less.
        Advance(device, TimeSpan.FromSeconds(9.9));
        ExpectNoIo(device);
        Advance(device, TimeSpan.FromSeconds(0.1));
        Io.ExpectMsg<ConnectCall>().Succeed();
        AwaitState(device, DeviceState.Running);
        Assert.Equal(1, Count(Counters.ConnectRetries));
    }

    [Fact]
    public void Network_failures_are_retried_with_full_jitter_waits_within_the_exponential_bound()
    {
        var options = Options();
        var device = StartedDevice(options);
        var expected = DeviceRandom.ForDevice(options.Seed, 0);

        for (var attempt = 0; attempt < 6; attempt++)
        {
            Io.ExpectMsg<ConnectCall>().Fail(new System.Net.Sockets.SocketException());
            AwaitState(device, DeviceState.Backoff);
            var wait = options.Retry.NextDelay(attempt, FailureKind.Network, ref expected);
            var ceiling = TimeSpan.FromMilliseconds(Math.Min(10_000, 100 * Math.Pow(2, attempt)));
            Assert.InRange(wait, TimeSpan.Zero, ceiling);

            if (wait > TimeSpan.FromMilliseconds(1))
            {
                Advance(device, wait - TimeSpan.FromMilliseconds(1));
                ExpectNoIo(device);
            }

            Advance(device, TimeSpan.FromMilliseconds(1));
        }

        Io.ExpectMsg<ConnectCall>().Succeed();
        AwaitState(device, DeviceState.Running);
        Assert.Equal(6, Count(Counters.ConnectRetries));
        Assert.Equal(6, Metrics.Operation(Operations.Connect).FailedCount);
    }

    [Fact]
    public void Connection_loss_goes_to_backoff_then_reconnects_and_records_reconnect_latency()
    {
        var device = StartedDevice(Options());
        var first = Io.ExpectMsg<ConnectCall>();
        first.Succeed();
        AwaitState(device, DeviceState.Running);

        first.Transport.DropConnection();
        AwaitState(device, DeviceState.Backoff);
        Assert.Equal(0, Metrics.Gauge(Gauges.DevicesConnected).Value);
        Advance(device, TimeSpan.FromMilliseconds(100)); // attempt 0 waits at most 100 ms
        var second = Io.ExpectMsg<ConnectCall>();
        Assert.NotEqual(first.Generation, second.Generation);
        second.Succeed();

        AwaitState(device, DeviceState.Running);
        Assert.Equal(1, Count(Counters.ConnectionLost));
        Assert.Equal(1, Count(DeviceMetrics.ConnectionLostPrefix + "network"));
        Assert.Equal(1, Metrics.Operation(Operations.Reconnect).OkCount);
        Assert.Equal(1, Metrics.Gauge(Gauges.DevicesConnected).Value);
    }

    [Fact]
    public void A_disconnect_event_of_an_old_connection_is_ignored()
    {
        var device = StartedDevice(Options());
        var first = Io.ExpectMsg<ConnectCall>();
        first.Succeed();
        AwaitState(device, DeviceState.Running);
        first.Transport.DropConnection();
        Advance(device, TimeSpan.FromMilliseconds(100));
        Io.ExpectMsg<ConnectCall>().Succeed();
        AwaitState(device, DeviceState.Running);

        device.Tell(new TransportDisconnected(first.Generation, FailureKind.Network, "late event"), Akka.Actor.ActorRefs.NoSender);
        Assert.Equal(DeviceState.Running, Status(device).State);
        Assert.Equal(1, Count(Counters.ConnectionLost));
    }

    [Fact]
    public void Retry_policy_none_without_auto_connect_stops_the_device_at_the_first_failure()
    {
        var device = StartedDevice(Options() with { Retry = RetryPolicy.None, AutoConnect = false });
        Io.ExpectMsg<ConnectCall>().Fail(new TimeoutException());

        Assert.Equal("timeout", ExpectMsg<DeviceActor.DeviceStopped>().Reason);
        Advance(device, TimeSpan.FromMinutes(1));
        ExpectNoIo(device);
    }

    [Fact]
    public void Retry_policy_none_with_auto_connect_reconnects_only_when_the_next_telemetry_is_due()
    {
        var options = Options() with { Retry = RetryPolicy.None, Telemetry = new FleetSim.DeviceActors.Telemetry.TelemetryOptions { Interval = TimeSpan.FromSeconds(1) } };
        var device = StartedDevice(options);
        var first = Io.ExpectMsg<ConnectCall>();
        first.Succeed();
        AwaitState(device, DeviceState.Running);
        Io.ExpectMsg<PublishCall>().Ack(); // the first message goes at once

        first.Transport.DropConnection();
        AwaitState(device, DeviceState.Backoff);
        Advance(device, TimeSpan.FromMilliseconds(900));
        ExpectNoIo(device); // no timer-driven retry
        Assert.Equal(0, Count(Counters.ConnectRetries));

        Advance(device, TimeSpan.FromMilliseconds(100)); // the next message is due: connect for it
        var second = Io.ExpectMsg<ConnectCall>();
        Assert.Equal(1, Count(DeviceMetrics.AutoConnectsName));
        second.Succeed(sessionPresent: true);
        var queued = Io.ExpectMsg<PublishCall>(); // the message generated while disconnected
        Assert.Equal(2, queued.Sequence);
        AwaitState(device, DeviceState.Running);
    }

    [Fact]
    public void Auto_connect_never_retries_a_failure_that_is_never_retried()
    {
        var options = Options() with { Retry = RetryPolicy.None, Telemetry = new FleetSim.DeviceActors.Telemetry.TelemetryOptions { Interval = TimeSpan.FromSeconds(1) } };
        var device = StartedDevice(options);
        Io.ExpectMsg<ConnectCall>().Refuse(FailureKind.Unauthorized);

        Assert.Equal("unauthorized", ExpectMsg<DeviceActor.DeviceStopped>().Reason);
        Advance(device, TimeSpan.FromSeconds(5));
        ExpectNoIo(device);
    }

    [Fact]
    public void Fixed_retry_policy_waits_its_interval()
    {
        var device = StartedDevice(Options() with { Retry = RetryPolicy.Fixed });
        Io.ExpectMsg<ConnectCall>().Fail(new System.Net.Sockets.SocketException());
        AwaitState(device, DeviceState.Backoff);

        Advance(device, TimeSpan.FromSeconds(9.99));
        ExpectNoIo(device);
        Advance(device, TimeSpan.FromSeconds(0.01));
        Io.ExpectMsg<ConnectCall>();
        Assert.Equal(10_000, Count(DeviceMetrics.RetryWaitMs));
    }

    [Fact]
    public void Stop_while_backing_off_stops_at_once()
    {
        var device = StartedDevice(Options());
        Io.ExpectMsg<ConnectCall>().Fail(new System.Net.Sockets.SocketException());
        AwaitState(device, DeviceState.Backoff);

        device.Tell(DeviceActor.Stop.Instance, TestActor);
        Assert.Equal("stopped", ExpectMsg<DeviceActor.DeviceStopped>().Reason);
        Advance(device, TimeSpan.FromMinutes(1));
        ExpectNoIo(device);
    }

    [Fact]
    public void Stop_while_connecting_waits_for_the_connect_and_then_disconnects_cleanly()
    {
        var device = StartedDevice(Options());
        var call = Io.ExpectMsg<ConnectCall>();
        device.Tell(DeviceActor.Stop.Instance, TestActor);
        Assert.Equal(DeviceState.Connecting, Status(device).State);

        call.Succeed();
        Io.ExpectMsg<DisconnectCall>();
        Assert.Equal("stopped", ExpectMsg<DeviceActor.DeviceStopped>().Reason);
        Assert.Equal(0, Metrics.Gauge(Gauges.DevicesConnected).Value);
    }

    [Fact]
    public void A_drop_that_beats_the_connect_result_is_not_lost()
    {
        var device = StartedDevice(Options());
        var call = Io.ExpectMsg<ConnectCall>();
        call.Transport.DropConnection(); // generation of the connection being established
        AwaitAssert(() => Assert.Equal(DeviceState.Connecting, Status(device).State));

        call.Succeed();
        AwaitState(device, DeviceState.Backoff);
        Assert.Equal(1, Count(Counters.ConnectionLost));
    }
}
