using Akka.Actor;
using FleetSim.DeviceActors.Methods;
using FleetSim.DeviceActors.Transport;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors;

/// <summary>Direct methods (answered per handler: status, payload, delay) and C2D (latency from fleetsim-sent, PUBACK).</summary>
public sealed partial class DeviceActor
{
    private static readonly MethodOptions NoMethods = new();
    private long _methodAnswers;

    private void OnMethodRequest(TransportMessage message)
    {
        if (!MethodTopics.TryParseRequest(message.Topic, out var name, out var rid))
        {
            _metrics.ErrorBecause("badMethodRequest").Increment();
            return;
        }

        var behavior = (_options.Methods ?? NoMethods).For(name);
        var reply = new MethodReplyDue(_generation, rid, behavior);
        if (behavior.Delay <= TimeSpan.Zero)
            SendMethodReply(reply);
        else
            Timers.StartSingleTimer("method:" + rid, reply, behavior.Delay);
    }

    private void SendMethodReply(MethodReplyDue reply)
    {
        _metrics.Methods.Increment();
        var behavior = reply.Behavior;
        var body = behavior.PayloadFactory?.Create(_identity.Index, ++_methodAnswers) ?? behavior.Body;
        PublishQuietly(MethodTopics.Response(behavior.Status, reply.Rid), body);
    }

    private void OnC2d(TransportMessage message)
    {
        _metrics.C2d.Increment();
        if (C2dTopic.TryParse(message.Topic, out _, out var bag)
            && PropertyBag.TryGetValue(bag, FleetSimProperties.SentAt, out var raw)
            && long.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var sentAt))
            _metrics.C2dDelivery.RecordOk(SinceUnixMs(sentAt));

        if (message.AckHandle is null || _options.C2d is { Acknowledge: false })
            return; // not acknowledged: the hub delivers it again on the next connection
        var delay = _options.C2d?.AckDelay ?? TimeSpan.Zero;
        if (delay <= TimeSpan.Zero)
            Acknowledge(message.AckHandle);
        else
            Timers.StartSingleTimer(message.AckHandle, new C2dAckDue(_generation, message.AckHandle), delay);
    }

    private void Acknowledge(object ackHandle) =>
        ObserveQuietly(SafeCall(static (t, h) => t.AcknowledgeAsync(h), _transport, ackHandle));
}
