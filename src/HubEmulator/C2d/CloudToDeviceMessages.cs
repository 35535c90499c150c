using System.Collections.Concurrent;
using FleetSim.HubEmulator.Mqtt;
using FleetSim.HubEmulator.Registry;
using FleetSim.Protocol;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace FleetSim.HubEmulator.C2d;

/// <summary>A cloud-to-device message as the service sends it.</summary>
internal sealed record C2dMessage(string MessageId, ReadOnlyMemory<byte> Body, IReadOnlyList<KeyValuePair<string, string?>> Properties);

/// <summary>
/// Cloud-to-device messages (PROTOCOL.md section 3). Each device has a queue (at most
/// <see cref="MaxQueuedPerDevice"/> messages, as on IoT Hub); a message goes out at QoS 1 on
/// <c>devices/{id}/messages/devicebound/{bag}</c> once the device is connected and subscribed, and is completed
/// by the device's PUBACK. Unacknowledged messages stay with the MQTT session (CleanSession=0) and are sent again
/// on reconnect; a clean-session reconnect puts them back in the queue.
/// </summary>
internal sealed class CloudToDeviceMessages
{
    public const int MaxQueuedPerDevice = 50;

    private readonly HubMqttServer _mqtt;
    private readonly ConcurrentDictionary<string, DeviceQueue> _queues = new(StringComparer.Ordinal);
    private long _sent;
    private long _completed;

    public CloudToDeviceMessages(HubMqttServer mqtt)
    {
        _mqtt = mqtt;
        mqtt.Server.ClientAcknowledgedPublishPacketAsync += OnAcknowledgedAsync;
    }

    public long Delivered => Interlocked.Read(ref _sent);

    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Messages queued or in flight for the device (cloudToDeviceMessageCount).</summary>
    public int Count(RegisteredDevice device) => _queues.TryGetValue(device.DeviceId, out var q) ? q.Count : 0;

    /// <summary>Queues a message; false when the device's queue is full.</summary>
    public async Task<bool> SendAsync(RegisteredDevice device, C2dMessage message)
    {
        var queue = _queues.GetOrAdd(device.DeviceId, static _ => new DeviceQueue());
        if (!queue.TryAdd(message))
        {
            return false;
        }

        await FlushAsync(device).ConfigureAwait(false);
        return true;
    }

    /// <summary>Hands queued messages to the device's session if it is connected and subscribed.</summary>
    public async Task FlushAsync(RegisteredDevice device)
    {
        if (!_queues.TryGetValue(device.DeviceId, out var queue)
            || !device.IsConnected
            || (device.Connection.Subscriptions & DeviceSubscriptions.C2d) == 0)
        {
            return;
        }

        while (queue.TryStartNext(out var message))
        {
            var topic = device.Topics.C2d(PropertyBag.Encode(Bag(device, message)));
            if (!await _mqtt.EnqueueAsync(device.DeviceId, DeviceDelivery.Message(topic, message.Body, MqttQualityOfServiceLevel.AtLeastOnce)).ConfigureAwait(false))
            {
                queue.Requeue(message);
                return;
            }

            Interlocked.Increment(ref _sent);
        }
    }

    /// <summary>The device reconnected with a clean session: what was in flight is lost with the session, so it is queued again.</summary>
    public void SessionDiscarded(RegisteredDevice device)
    {
        if (_queues.TryGetValue(device.DeviceId, out var queue))
        {
            queue.RequeueInFlight();
        }
    }

    private static List<KeyValuePair<string, string?>> Bag(RegisteredDevice device, C2dMessage message)
    {
        var bag = new List<KeyValuePair<string, string?>>(message.Properties.Count + 2)
        {
            new(SystemProperties.MessageId, message.MessageId),
            new(SystemProperties.To, $"/devices/{device.DeviceId}/messages/deviceBound"),
        };
        bag.AddRange(message.Properties);
        return bag;
    }

    private Task OnAcknowledgedAsync(ClientAcknowledgedPublishPacketEventArgs e)
    {
        var topic = e.PublishPacket.Topic;
        if (!C2dTopic.TryParse(topic, out var deviceId, out var bag) || !_queues.TryGetValue(deviceId, out var queue))
        {
            return Task.CompletedTask;
        }

        if (PropertyBag.TryGetValue(bag, "%24.mid", out var raw) || PropertyBag.TryGetValue(bag, SystemProperties.MessageId, out raw))
        {
            if (queue.Complete(Uri.UnescapeDataString(raw.ToString())))
            {
                Interlocked.Increment(ref _completed);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>One device's queued and in-flight messages, under one small lock.</summary>
    private sealed class DeviceQueue
    {
        private readonly Lock _gate = new();
        private readonly LinkedList<C2dMessage> _queued = new();
        private readonly Dictionary<string, C2dMessage> _inFlight = new(StringComparer.Ordinal);

        public int Count
        {
            get { lock (_gate) { return _queued.Count + _inFlight.Count; } }
        }

        public bool TryAdd(C2dMessage message)
        {
            lock (_gate)
            {
                if (_queued.Count + _inFlight.Count >= MaxQueuedPerDevice)
                {
                    return false;
                }

                _queued.AddLast(message);
                return true;
            }
        }

        public bool TryStartNext(out C2dMessage message)
        {
            lock (_gate)
            {
                if (_queued.First is not { } first)
                {
                    message = null!;
                    return false;
                }

                _queued.RemoveFirst();
                message = first.Value;
                _inFlight[message.MessageId] = message;
                return true;
            }
        }

        public void Requeue(C2dMessage message)
        {
            lock (_gate)
            {
                _inFlight.Remove(message.MessageId);
                _queued.AddFirst(message);
            }
        }

        public void RequeueInFlight()
        {
            lock (_gate)
            {
                foreach (var message in _inFlight.Values)
                {
                    _queued.AddFirst(message);
                }

                _inFlight.Clear();
            }
        }

        public bool Complete(string messageId)
        {
            lock (_gate)
            {
                return _inFlight.Remove(messageId);
            }
        }
    }
}
