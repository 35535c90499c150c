using FleetSim.DeviceActors.Methods;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Transport;

namespace FleetSim.DeviceActors;

/// <summary>The states of a device (docs/device.md has the diagram).</summary>
public enum DeviceState
{
    Idle,
    Connecting,
    Subscribing,
    SyncingTwin,
    Running,
    Renewing,
    Backoff,
    Stopping,
    Stopped,
}

public sealed partial class DeviceActor
{
    // ---- Commands and events other actors use ----

    /// <summary>
    /// Connect now; <paramref name="IntendedTimestamp"/> (TimeProvider timestamp) is when the connect was scheduled. A device
    /// that continues on another node after its first one was lost gets <paramref name="ResumeAfterSequence"/>: its telemetry
    /// numbering continues after that number, as the hub last saw it, so the hub counts no duplicates.
    /// </summary>
    public sealed record Start(long IntendedTimestamp, long ResumeAfterSequence = 0);

    /// <summary>Stop cleanly: stop generating telemetry, wait for PUBACKs (bounded), DISCONNECT, reply <see cref="DeviceStopped"/>.</summary>
    public sealed record Stop
    {
        public static Stop Instance { get; } = new();
    }

    /// <summary>Send telemetry at this interval from now on (a load phase's rate change).</summary>
    public sealed record SetTelemetryInterval(TimeSpan Interval);

    /// <summary>Pause (or resume) telemetry, reported updates and uploads; the connection stays up.</summary>
    public sealed record SetPaused(bool Paused);

    /// <summary>Sent to the parent (and to whoever asked with <see cref="Stop"/>) when the device reaches Stopped.</summary>
    public sealed record DeviceStopped(string DeviceId, int Index, string Reason);

    /// <summary>Asks for a <see cref="DeviceStatus"/> (tests, live view).</summary>
    public sealed record GetStatus
    {
        public static GetStatus Instance { get; } = new();
    }

    public sealed record DeviceStatus(
        DeviceState State, long LastSequence, int InFlight, int Queued, long DesiredVersion, string? StoppedReason);

    // ---- Internal: I/O results and timers, each tagged so stale ones are recognised ----

    internal sealed record ConnectDone(ConnectOutcome Outcome);

    internal sealed record ConnectFailed(Exception Error);

    internal sealed record SubscribeDone(int Generation);

    internal sealed record SubscribeFailed(int Generation, Exception Error);

    /// <summary>PUBACK of message <paramref name="Sequence"/>; <paramref name="AckTimestamp"/> is when the transport completed it (not when the actor got to it).</summary>
    internal sealed record TelemetryAcked(int Generation, long Sequence, long AckTimestamp);

    internal sealed record TelemetryFailed(int Generation, long Sequence, Exception Error);

    internal sealed record DisconnectDone
    {
        public static DisconnectDone Instance { get; } = new();
    }

    internal sealed record TokenReady(string Token)
    {
        /// <summary>Dead letters and debug logs print messages: never the token.</summary>
        public override string ToString() => "TokenReady { Token = " + FleetSim.Protocol.Redaction.Mask + " }";
    }

    internal sealed record TokenFailed(Exception Error);

    internal sealed record RetryDue
    {
        public static RetryDue Instance { get; } = new();
    }

    internal sealed record TelemetryStartDue
    {
        public static TelemetryStartDue Instance { get; } = new();
    }

    internal sealed record TelemetryTick
    {
        public static TelemetryTick Instance { get; } = new();
    }

    internal sealed record ReportTick
    {
        public static ReportTick Instance { get; } = new();
    }

    internal sealed record SasRenewDue
    {
        public static SasRenewDue Instance { get; } = new();
    }

    /// <summary>Time to look whether the oldest unacknowledged publish waited longer than the operation timeout.</summary>
    internal sealed record PubAckCheck
    {
        public static PubAckCheck Instance { get; } = new();
    }

    internal sealed record DrainDeadline
    {
        public static DrainDeadline Instance { get; } = new();
    }

    internal sealed record TwinTimeout(string Rid);

    internal sealed record MethodReplyDue(int Generation, string Rid, MethodBehavior Behavior);

    internal sealed record C2dAckDue(int Generation, object AckHandle);

    internal sealed record UploadDone(long StartTimestamp, string? Error);

    internal sealed record UploadTick
    {
        public static UploadTick Instance { get; } = new();
    }

    /// <summary>What a crashed instance hands to its successor so sequence numbers and unsent telemetry survive.</summary>
    internal sealed record Restored(long LastSequence, int Restarts, long DesiredVersion, TelemetryItem[] Pending);
}
