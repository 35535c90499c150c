using FleetSim.DeviceActors.Methods;
using FleetSim.DeviceActors.Tests.Fakes;
using FleetSim.Metrics;

namespace FleetSim.DeviceActors.Tests.Twin;

public sealed class MethodAndC2dTests : DeviceTestKit
{
    private (Akka.Actor.IActorRef Device, FakeTransport Transport) Running(DeviceOptions options)
    {
        var device = StartedDevice(options);
        var connect = Io.ExpectMsg<ConnectCall>();
        connect.Succeed(sessionPresent: true);
        AwaitState(device, DeviceState.Running);
        return (device, connect.Transport);
    }

    [Fact]
    public void A_method_is_answered_with_its_handlers_status_and_payload_after_its_delay()
    {
        var methods = new MethodOptions
        {
            Handlers = new Dictionary<string, MethodBehavior> { ["reboot"] = new(200, """{"ok":true}""", TimeSpan.FromSeconds(2)) },
        };
        var (device, transport) = Running(Options() with { Methods = methods });

        transport.Deliver("$iothub/methods/POST/reboot/?$rid=7", "{}");
        Io.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Advance(device, TimeSpan.FromSeconds(2));

        var reply = Io.ExpectMsg<PublishCall>();
        Assert.Equal("$iothub/methods/res/200/?$rid=7", reply.Topic);
        Assert.Equal("""{"ok":true}""", System.Text.Encoding.UTF8.GetString(reply.Payload));
    }

    private sealed class CountingPayload : IMethodResponsePayload
    {
        public byte[] Create(int deviceIndex, long count) => System.Text.Encoding.UTF8.GetBytes($$"""{"device":{{deviceIndex}},"answer":{{count}}}""");
    }

    [Fact]
    public void A_payload_factory_renders_each_answer()
    {
        var methods = new MethodOptions
        {
            Handlers = new Dictionary<string, MethodBehavior>
            {
                ["status"] = new MethodBehavior(200, "unused", TimeSpan.Zero) { PayloadFactory = new CountingPayload() },
            },
        };
        var (_, transport) = Running(Options() with { Methods = methods });

        transport.Deliver("$iothub/methods/POST/status/?$rid=1", "{}");
        Assert.Equal("""{"device":0,"answer":1}""", System.Text.Encoding.UTF8.GetString(Io.ExpectMsg<PublishCall>().Payload));
        transport.Deliver("$iothub/methods/POST/status/?$rid=2", "{}");
        Assert.Equal("""{"device":0,"answer":2}""", System.Text.Encoding.UTF8.GetString(Io.ExpectMsg<PublishCall>().Payload));
    }

    [Fact]
    public void An_unknown_method_gets_the_configured_answer_at_once()
    {
        var (_, transport) = Running(Options() with { Methods = new MethodOptions() });

        transport.Deliver("$iothub/methods/POST/selfDestruct/?$rid=8");

        var reply = Io.ExpectMsg<PublishCall>();
        Assert.Equal("$iothub/methods/res/404/?$rid=8", reply.Topic);
        Assert.Contains("unknown method", System.Text.Encoding.UTF8.GetString(reply.Payload));
    }

    [Fact]
    public void A_c2d_message_is_acknowledged_and_its_delivery_latency_recorded()
    {
        var (_, transport) = Running(Options() with { C2d = new C2dOptions() });
        var sent = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 25;

        var handle = transport.Deliver($"devices/d1/messages/devicebound/%24.mid=m1&fleetsim-sent={sent}", "hello", atLeastOnce: true);

        Assert.Same(handle, Io.ExpectMsg<AckCall>().Handle);
        AwaitAssert(() => Assert.Equal(1, Metrics.Operation(Operations.C2dDelivery).OkCount));
        Assert.Equal(1, Count(DeviceMetrics.C2dReceived));
    }

    [Fact]
    public void A_c2d_ack_delay_holds_the_PUBACK_back()
    {
        var (device, transport) = Running(Options() with { C2d = new C2dOptions { AckDelay = TimeSpan.FromSeconds(3) } });

        transport.Deliver("devices/d1/messages/devicebound/", "x", atLeastOnce: true);
        Io.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Advance(device, TimeSpan.FromSeconds(3));
        Io.ExpectMsg<AckCall>();
    }

    [Fact]
    public void Messages_of_an_old_connection_are_not_handled()
    {
        var (device, transport) = Running(Options() with { Methods = new MethodOptions() });
        transport.DropConnection();
        AwaitState(device, DeviceState.Backoff);

        transport.Deliver("$iothub/methods/POST/x/?$rid=1");
        Io.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }
}
