using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Mqtt;
using FleetSim.HubEmulator.Registry;
using FleetSim.Protocol;
using MQTTnet;
using MQTTnet.Protocol;

namespace FleetSim.HubEmulator.Methods;

/// <summary>Outcome of a direct method invocation.</summary>
internal enum MethodOutcome
{
    Answered,
    /// <summary>The device was not connected and subscribed within the connect timeout (404103).</summary>
    DeviceNotOnline,
    /// <summary>The device did not answer within the response timeout (504101).</summary>
    Timeout,
}

/// <summary>A direct method result: the device's status and JSON payload when answered.</summary>
internal sealed record MethodResult(MethodOutcome Outcome, int Status, JsonNode? Payload);

/// <summary>
/// Direct methods (PROTOCOL.md sections 3 and 8): the hub publishes <c>$iothub/methods/POST/{name}/?$rid={rid}</c>
/// at QoS 0 to a device subscribed to <c>$iothub/methods/POST/#</c> and completes the call when the device
/// publishes <c>$iothub/methods/res/{status}/?$rid={rid}</c>. A device that is not online within the connect
/// timeout gives DeviceNotOnline; no answer within the response timeout gives a timeout.
/// </summary>
internal sealed class DirectMethods : IDeviceRequestHandler
{
    private static readonly TimeSpan OnlinePoll = TimeSpan.FromMilliseconds(50);
    private readonly HubMqttServer _mqtt;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private long _nextRid;

    public DirectMethods(HubMqttServer mqtt, TimeProvider time)
    {
        _mqtt = mqtt;
        _time = time;
    }

    public string TopicPrefix => MethodTopics.ResponsePrefix;

    public async Task<MethodResult> InvokeAsync(
        RegisteredDevice device, string methodName, JsonNode? payload, TimeSpan responseTimeout, TimeSpan connectTimeout, CancellationToken ct)
    {
        var onlineBy = _time.GetUtcNow() + connectTimeout;
        while (!IsReachable(device))
        {
            if (_time.GetUtcNow() >= onlineBy)
            {
                return new MethodResult(MethodOutcome.DeviceNotOnline, 0, null);
            }

            await Task.Delay(OnlinePoll, _time, ct).ConfigureAwait(false);
        }

        var rid = Interlocked.Increment(ref _nextRid).ToString("x", CultureInfo.InvariantCulture);
        var pending = new Pending(device.DeviceId);
        _pending[rid] = pending;
        try
        {
            var body = Encoding.UTF8.GetBytes(payload?.ToJsonString() ?? "null");
            await _mqtt.EnqueueAsync(device.DeviceId, DeviceDelivery.Message(MethodTopics.Request(methodName, rid), body, MqttQualityOfServiceLevel.AtMostOnce))
                .ConfigureAwait(false);
            var answer = await pending.Answer.Task.WaitAsync(responseTimeout, _time, ct).ConfigureAwait(false);
            return new MethodResult(MethodOutcome.Answered, answer.Status, answer.Payload);
        }
        catch (TimeoutException)
        {
            return new MethodResult(MethodOutcome.Timeout, 0, null);
        }
        finally
        {
            _pending.TryRemove(rid, out _);
        }
    }

    public bool TryHandle(RegisteredDevice device, MqttApplicationMessage message)
    {
        if (!MethodTopics.TryParseResponse(message.Topic, out var status, out var rid))
        {
            return false;
        }

        // An answer for an unknown or expired request id is dropped, as on the real hub.
        if (_pending.TryGetValue(rid, out var pending) && string.Equals(pending.DeviceId, device.DeviceId, StringComparison.Ordinal))
        {
            pending.Answer.TrySetResult((status, ParsePayload(message.Payload)));
        }

        return true;
    }

    private static bool IsReachable(RegisteredDevice device) =>
        device.IsConnected && (device.Connection.Subscriptions & DeviceSubscriptions.Methods) != 0;

    private static JsonNode? ParsePayload(ReadOnlySequence<byte> payload)
    {
        if (payload.IsEmpty)
        {
            return null;
        }

        var bytes = payload.ToArray();
        try
        {
            return JsonNode.Parse(bytes);
        }
        catch (JsonException)
        {
            return JsonValue.Create(Encoding.UTF8.GetString(bytes));
        }
    }

    private sealed class Pending(string deviceId)
    {
        public string DeviceId { get; } = deviceId;

        public TaskCompletionSource<(int Status, JsonNode? Payload)> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
