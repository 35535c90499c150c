using System.Buffers;
using System.Globalization;
using FleetSim.HubEmulator.Faults;
using FleetSim.HubEmulator.Ingest;
using FleetSim.HubEmulator.Registry;
using FleetSim.HubEmulator.Throttling;
using FleetSim.Protocol;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace FleetSim.HubEmulator.Mqtt;

/// <summary>
/// Every device PUBLISH passes here (PROTOCOL.md section 3): telemetry on the device's own
/// <c>devices/{id}/messages/events/</c> is counted; <c>$iothub/…</c> requests go to their handlers; anything else,
/// another device's topic, QoS 2 or a message over 256 KB closes the connection. Nothing is fanned out to
/// other subscribers (the hub is not a broker), which also keeps MQTTnet from scanning every session per message.
/// A slow hub (the ack-delay fault) and the telemetry quota both hold a message back before it is routed, so its
/// PUBACK waits while the message is still ingested exactly once.
/// </summary>
internal sealed class PublishRouter
{
    private readonly DeviceRegistry _registry;
    private readonly FaultInjector _faults;
    private readonly HubThrottle _throttle;
    private readonly TimeProvider _time;
    private readonly Func<RegisteredDevice, DisconnectReason, bool> _markClosing;
    private readonly TelemetryRecorder _recorder;
    private IDeviceRequestHandler[] _handlers = [];

    public PublishRouter(
        DeviceRegistry registry, FaultInjector faults, HubThrottle throttle, TelemetryRecorder recorder, TimeProvider time,
        Func<RegisteredDevice, DisconnectReason, bool> markClosing)
    {
        _throttle = throttle;
        _recorder = recorder;
        _registry = registry;
        _faults = faults;
        _time = time;
        _markClosing = markClosing;
    }

    public void Add(IDeviceRequestHandler handler) => _handlers = [.. _handlers, handler];

    public Task OnPublishAsync(InterceptingPublishEventArgs e)
    {
        e.ProcessPublish = false;
        var device = _registry.Find(e.ClientId);
        if (device is null)
        {
            e.CloseConnection = true;
            return Task.CompletedTask;
        }

        device.Connection.Touch(_time.GetUtcNow().UtcTicks);
        var delay = _faults.AckDelayFor(device.DeviceId);
        if (_throttle.LimitsTelemetry && IsTelemetry(device, e.ApplicationMessage.Topic))
        {
            delay += _throttle.TelemetryDelay();
        }

        if (delay > TimeSpan.Zero)
        {
            return DelayedRouteAsync(e, device, delay);
        }

        RouteAndClose(e, device);
        return Task.CompletedTask;
    }

    /// <summary>A slow or throttling hub: the PUBACK and any response are held back by the delay.</summary>
    private async Task DelayedRouteAsync(InterceptingPublishEventArgs e, RegisteredDevice device, TimeSpan delay)
    {
        await Task.Delay(delay, _time).ConfigureAwait(false);
        RouteAndClose(e, device);
    }

    private void RouteAndClose(InterceptingPublishEventArgs e, RegisteredDevice device)
    {
        if (Route(device, e.ApplicationMessage) is { } close)
        {
            _markClosing(device, close);
            e.CloseConnection = true;
        }
    }

    private DisconnectReason? Route(RegisteredDevice device, MqttApplicationMessage message)
    {
        if (message.QualityOfServiceLevel == MqttQualityOfServiceLevel.ExactlyOnce)
        {
            return DisconnectReason.QoS2NotSupported;
        }

        var topic = message.Topic;
        var prefix = device.Topics.TelemetryPrefix;
        if (IsTelemetry(device, topic))
        {
            return Ingest(device, message, topic.Length > prefix.Length ? topic.AsSpan(prefix.Length) : []);
        }

        if (message.Payload.Length > MessageLimits.MaxMessageBytes)
        {
            return DisconnectReason.MessageTooLarge;
        }

        foreach (var handler in _handlers)
        {
            if (topic.StartsWith(handler.TopicPrefix, StringComparison.Ordinal))
            {
                return handler.TryHandle(device, message) ? null : DisconnectReason.TopicNotAllowed;
            }
        }

        return DisconnectReason.TopicNotAllowed;
    }

    /// <summary>The device's own telemetry topic, with or without the trailing slash and property bag.</summary>
    private static bool IsTelemetry(RegisteredDevice device, string topic)
    {
        var prefix = device.Topics.TelemetryPrefix;
        return topic.StartsWith(prefix, StringComparison.Ordinal)
               || (topic.Length == prefix.Length - 1 && prefix.StartsWith(topic, StringComparison.Ordinal));
    }

    private DisconnectReason? Ingest(RegisteredDevice device, MqttApplicationMessage message, ReadOnlySpan<char> bag)
    {
        var bodyBytes = message.Payload.Length;
        if (bodyBytes + bag.Length > MessageLimits.MaxMessageBytes
            && MessageLimits.MessageSize((int)Math.Min(bodyBytes, int.MaxValue), PropertyBag.Decode(bag.ToString())) > MessageLimits.MaxMessageBytes)
        {
            return DisconnectReason.MessageTooLarge;
        }

        // Hub-wide, and within the sending run when the message names one (a standing hub serves many runs).
        var run = PropertyBag.TryGetValue(bag, FleetSimProperties.Run, out var runId) && runId.Length > 0 ? device.Ingest.ForRun(runId) : null;
        if (PropertyBag.TryGetValue(bag, FleetSimProperties.Sequence, out var raw)
            && long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            device.Ingest.Record(sequence);
            run?.Record(sequence);
        }
        else
        {
            device.Ingest.Record();
            run?.Record();
        }

        if (_recorder.Enabled)
        {
            _recorder.Record(device.DeviceId, bag, message.Payload.ToArray(), message.Retain);
        }

        device.LastTelemetryTopic = message.Topic;
        return null;
    }
}
