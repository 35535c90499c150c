using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using FleetSim.DeviceActors.Transport;
using FleetSim.Metrics;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors;

/// <summary>
/// The convergence check of a device with twin behaviour, as it stops (the end of the run or a ramp-down): one twin GET
/// before the drain and DISCONNECT, compared with what the device knows. Reported: every property the device reported
/// (the merge of all its patches, deletions applied) must be at the hub with the same value (a hub may hold more, e.g.
/// from earlier runs). Desired: the device must have applied the hub's desired version, when the hub's desired section
/// holds anything to apply; a patch the hub sent just before the stop gets <see cref="DesiredGrace"/> to arrive. The
/// result goes to <see cref="ConvergenceLog"/>; a device that cannot check (not connected, no answer) is recorded as
/// unchecked, with why. The GET is not counted as a twinGet operation: it is the test's, not the device's.
/// </summary>
public sealed partial class DeviceActor
{
    private const string CheckTimer = "twin-check";

    /// <summary>How long a desired patch the hub already holds may still take to reach a stopping device.</summary>
    internal static readonly TimeSpan DesiredGrace = TimeSpan.FromSeconds(2);

    private JsonObject? _reportedState;  // what this device reported, merged (null: nothing yet)
    private string? _checkRid;
    private bool _checkReportedMatches;
    private long _checkHubDesired;       // the hub's desired version while waiting for its patch
    private bool _twinChecked;           // this stop's check is recorded

    private bool ChecksTwin => _options.Twin is not null;

    private void RememberReported(byte[] patch)
    {
        try
        {
            if (JsonNode.Parse(patch) is JsonObject o)
                JsonMerge.Apply(_reportedState ??= new JsonObject(), o);
        }
        catch (JsonException)
        {
            // Not JSON: the hub refuses it too (400), so it was never reported.
        }
    }

    private void BeginTwinCheck()
    {
        _checkRid = NextRid();
        _checkHubDesired = 0;
        Transition(DeviceState.Stopping, CheckingTwin);
        var timeout = _options.Twin!.RequestTimeout < _options.StopDrainTimeout ? _options.Twin.RequestTimeout : _options.StopDrainTimeout;
        Timers.StartSingleTimer(CheckTimer, new TwinTimeout(_checkRid), timeout);
        PublishQuietly(TwinTopics.Get(_checkRid), ReadOnlyMemory<byte>.Empty);
    }

    private void CheckingTwin()
    {
        Receive<TwinCheckDone>(_ => FinishTwinCheck());
        Receive<Stop>(_ => _stopRequester = Sender);
        Receive<Start>(_ => Stash.Stash()); // started again before the stop completed: handled once Stopped
        Receive<TransportDisconnected>(d => d.Generation == _generation, _ =>
        {
            RecordTwinCheck(false, 0, "disconnected during the check");
            ReleaseConnection();
            EnterStopped("stopped");
        });
        Connected(); // twin answers and desired patches still arrive
        Background();
    }

    /// <summary>The answer to the check's GET (called from the twin response routing).</summary>
    private void OnTwinCheckAnswer(int status, ReadOnlyMemory<byte> payload)
    {
        Timers.Cancel(CheckTimer);
        _checkRid = null;
        JsonObject? doc = null;
        if (status == 200)
        {
            try
            {
                doc = JsonNode.Parse(payload.Span) as JsonObject;
            }
            catch (JsonException)
            {
                doc = null;
            }
        }

        if (doc is null)
        {
            RecordTwinCheck(false, 0, status == 200 ? "the twin document was not JSON" : $"the twin GET was answered {status}");
            ContinueStopping();
            return;
        }

        _checkReportedMatches = Contains(doc["reported"] as JsonObject, _reportedState);
        var desired = doc["desired"] as JsonObject;
        var hubVersion = _desiredVersion;
        if (desired is not null && desired.Any(static p => !p.Key.StartsWith('$'))
            && desired.TryGetPropertyValue("$version", out var v) && v is JsonValue value && value.TryGetValue(out long version))
            hubVersion = version;
        if (hubVersion > _desiredVersion)
        {
            _checkHubDesired = hubVersion;
            Timers.StartSingleTimer(CheckTimer, TwinCheckDone.Instance, DesiredGrace);
            return;
        }

        _checkHubDesired = _desiredVersion;
        FinishTwinCheck();
    }

    /// <summary>A desired patch arrived while checking: once it reaches the hub's version the wait is over.</summary>
    private void OnDesiredDuringCheck()
    {
        if (_state == DeviceState.Stopping && _checkHubDesired != 0 && _checkRid is null && _desiredVersion >= _checkHubDesired)
            Self.Tell(TwinCheckDone.Instance);
    }

    private void OnTwinCheckTimeout()
    {
        _checkRid = null;
        RecordTwinCheck(false, 0, "the hub did not answer the twin GET in time");
        ContinueStopping();
    }

    private void FinishTwinCheck()
    {
        if (_twinChecked)
            return;
        Timers.Cancel(CheckTimer);
        RecordTwinCheck(_checkReportedMatches, _checkHubDesired, null);
        ContinueStopping();
    }

    private void RecordTwinCheck(bool reportedMatches, long desiredAtHub, string? notChecked)
    {
        if (!ChecksTwin || _twinChecked)
            return;
        _twinChecked = true;
        _metrics.Twin.Record(new TwinCheck(_identity.DeviceId, reportedMatches, _desiredVersion, desiredAtHub, notChecked));
    }

    /// <summary>True when every property of <paramref name="expected"/> is in <paramref name="actual"/> with the same value.</summary>
    internal static bool Contains(JsonObject? actual, JsonObject? expected)
    {
        if (expected is null)
            return true;
        if (actual is null)
            return expected.Count == 0;
        foreach (var (key, value) in expected)
        {
            if (!actual.TryGetPropertyValue(key, out var other))
                return false;
            if (value is JsonObject nested ? !(other is JsonObject otherObject && Contains(otherObject, nested)) : !SameValue(value, other))
                return false;
        }

        return true;
    }

    private static bool SameValue(JsonNode? a, JsonNode? b)
    {
        // A hub may write numbers its own way (1.50 as 1.5): numbers compare by value.
        if (a is JsonValue va && b is JsonValue vb && va.GetValueKind() == JsonValueKind.Number && vb.GetValueKind() == JsonValueKind.Number)
            return va.GetValue<double>() == vb.GetValue<double>();
        return JsonNode.DeepEquals(a, b);
    }

    internal sealed record TwinCheckDone
    {
        public static TwinCheckDone Instance { get; } = new();
    }
}
