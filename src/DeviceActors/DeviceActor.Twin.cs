using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FleetSim.DeviceActors.Transport;
using FleetSim.DeviceActors.Twin;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors;

/// <summary>
/// Twin: a GET with $rid and a timeout after every (re)connect (missed desired state applied), desired patches
/// applied only when their $version is newer, reported patches with $rid and a timeout, optional report-back.
/// </summary>
public sealed partial class DeviceActor
{
    private long _desiredVersion;
    private int _nextRid;
    private string? _getRid;
    private long _getSentTimestamp;
    private List<(string Rid, long SentTimestamp)>? _reports;
    private long _reportCount;

    private void BeginTwinSync()
    {
        Transition(DeviceState.SyncingTwin, SyncingTwin);
        _getRid = NextRid();
        _getSentTimestamp = _options.Time.GetTimestamp();
        Timers.StartSingleTimer(TwinGetTimer, new TwinTimeout(_getRid), _options.Twin!.RequestTimeout);
        PublishQuietly(TwinTopics.Get(_getRid), ReadOnlyMemory<byte>.Empty);
    }

    private void SyncingTwin()
    {
        Connected();
        Receive<Stop>(_ => Stash.Stash());
        Background();
    }

    private string NextRid() => (++_nextRid).ToString(CultureInfo.InvariantCulture);

    /// <summary>Routes a PUBLISH from the hub by topic.</summary>
    private void OnTransportMessage(TransportMessage message)
    {
        var topic = message.Topic;
        if (topic.StartsWith(_topics.C2dPrefix, StringComparison.Ordinal))
        {
            OnC2d(message); // acknowledges itself, after handling
            return;
        }

        if (topic.StartsWith(TwinTopics.ResponsePrefix, StringComparison.Ordinal))
            OnTwinResponse(message);
        else if (topic.StartsWith(TwinTopics.DesiredPatchPrefix, StringComparison.Ordinal))
            OnDesiredPatch(message);
        else if (topic.StartsWith(MethodTopics.RequestPrefix, StringComparison.Ordinal))
            OnMethodRequest(message);
        else
            _metrics.ErrorBecause("unexpectedTopic").Increment();

        if (message.AckHandle is not null)
            Acknowledge(message.AckHandle);
    }

    private void OnTwinResponse(TransportMessage message)
    {
        if (!TwinTopics.TryParseResponse(message.Topic, out var status, out var rid, out _))
        {
            _metrics.ErrorBecause("badTwinResponse").Increment();
            return;
        }

        if (rid == _checkRid)
        {
            OnTwinCheckAnswer(status, message.Payload);
            return;
        }

        if (rid == _getRid)
        {
            Timers.Cancel(TwinGetTimer);
            _getRid = null;
            if (status == 200)
            {
                _metrics.TwinGet.RecordOk(_options.Time.GetElapsedTime(_getSentTimestamp));
                ApplyTwinDocument(message.Payload);
            }
            else
            {
                _metrics.TwinGet.RecordFailure("status" + status.ToString(CultureInfo.InvariantCulture));
            }

            if (_state == DeviceState.SyncingTwin)
                EnterRunning();
            return;
        }

        var index = _reports?.FindIndex(r => r.Rid == rid) ?? -1;
        if (index < 0)
            return; // answered after its timeout
        var sent = _reports![index].SentTimestamp;
        _reports.RemoveAt(index);
        Timers.Cancel(TwinTimerKey(rid));
        if (status is >= 200 and < 300)
            _metrics.ReportedPatch.RecordOk(_options.Time.GetElapsedTime(sent));
        else
            _metrics.ReportedPatch.RecordFailure("status" + status.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>ensure_desired_properties: the GET's desired section is applied when its $version is newer than ours.</summary>
    private void ApplyTwinDocument(ReadOnlyMemory<byte> payload)
    {
        JsonObject? desired;
        try
        {
            desired = JsonNode.Parse(payload.Span) is JsonObject doc ? doc["desired"] as JsonObject : null;
        }
        catch (JsonException)
        {
            desired = null;
        }

        if (desired is null || !TryGetVersion(desired, out var version))
        {
            _metrics.ErrorBecause("badTwinDocument").Increment();
            return;
        }

        if (version <= _desiredVersion)
            return;
        if (_desiredVersion > 0)
            _metrics.MissedApplied.Increment(); // patches sent while we were offline
        _desiredVersion = version;
        if (_options.Twin!.ReportDesiredBack)
            ReportBack(desired);
    }

    private void OnDesiredPatch(TransportMessage message)
    {
        if (!TwinTopics.TryParseDesiredPatch(message.Topic, out var version))
        {
            _metrics.ErrorBecause("badDesiredPatch").Increment();
            return;
        }

        _metrics.DesiredReceived.Increment();
        if (version <= _desiredVersion)
        {
            _metrics.DesiredStale.Increment(); // already applied through a GET
            return;
        }

        _desiredVersion = version;
        OnDesiredDuringCheck();
        JsonObject? patch;
        try
        {
            patch = JsonNode.Parse(message.Payload.Span) as JsonObject;
        }
        catch (JsonException)
        {
            patch = null;
        }

        if (patch is null)
        {
            _metrics.ErrorBecause("badDesiredPatch").Increment();
            return;
        }

        if (TwinOptions.TryGetSentAt(patch, out var sentAt))
            _metrics.DesiredDelivery.RecordOk(SinceUnixMs(sentAt));
        if (_options.Twin!.ReportDesiredBack)
            ReportBack(patch);
    }

    private void ReportBack(JsonObject desired)
    {
        var copy = new JsonObject();
        foreach (var (key, value) in desired)
        {
            if (!key.StartsWith('$'))
                copy[key] = value?.DeepClone();
        }

        if (copy.Count > 0) // nothing but $version: nothing to acknowledge
            SendReported(JsonSerializer.SerializeToUtf8Bytes(copy));
    }

    private void SendReportedPatch()
    {
        if (_options.Twin?.ReportedPatch is { } factory)
            SendReported(factory.Create(_identity.Index, ++_reportCount));
    }

    private void SendReported(byte[] patch)
    {
        RememberReported(patch);
        var rid = NextRid();
        (_reports ??= []).Add((rid, _options.Time.GetTimestamp()));
        Timers.StartSingleTimer(TwinTimerKey(rid), new TwinTimeout(rid), _options.Twin!.RequestTimeout);
        PublishQuietly(TwinTopics.PatchReported(rid), patch);
    }

    private void OnTwinTimeout(TwinTimeout timeout)
    {
        if (timeout.Rid == _checkRid)
        {
            OnTwinCheckTimeout();
            return;
        }

        if (timeout.Rid == _getRid)
        {
            _getRid = null;
            _metrics.TwinGet.RecordFailure("timeout");
            if (_state == DeviceState.SyncingTwin)
                EnterRunning();
            return;
        }

        var index = _reports?.FindIndex(r => r.Rid == timeout.Rid) ?? -1;
        if (index < 0)
            return;
        _reports!.RemoveAt(index);
        _metrics.ReportedPatch.RecordFailure("timeout");
    }

    private void FailPendingTwinRequests(string reason)
    {
        if (_getRid is not null)
        {
            _getRid = null;
            _metrics.TwinGet.RecordFailure(reason);
        }

        if (_reports is not { Count: > 0 })
            return;
        foreach (var (rid, _) in _reports)
        {
            Timers.Cancel(TwinTimerKey(rid));
            _metrics.ReportedPatch.RecordFailure(reason);
        }

        _reports.Clear();
    }

    private static string TwinTimerKey(string rid) => "twin:" + rid;

    private static bool TryGetVersion(JsonObject section, out long version)
    {
        version = 0;
        return section.TryGetPropertyValue("$version", out var node) && node is JsonValue v && v.TryGetValue(out version);
    }

    private TimeSpan SinceUnixMs(long unixMs)
    {
        var ms = _options.Time.GetUtcNow().ToUnixTimeMilliseconds() - unixMs;
        return TimeSpan.FromMilliseconds(ms < 0 ? 0 : ms);
    }

    /// <summary>QoS 0 request or response (twin, methods), as the Node SDK sends them; a loss shows up as a timeout.</summary>
    private void PublishQuietly(string topic, ReadOnlyMemory<byte> body) =>
        ObserveQuietly(SafeCall(static (t, a) => t.PublishAsync(a.topic, a.body, false), _transport, (topic, body)));
}
