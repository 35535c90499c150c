using Akka.Actor;
using Akka.Event;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Transport;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors;

/// <summary>
/// One simulated IoT Hub device: the client state machine of the official SDKs (PROTOCOL.md), one state per
/// method, switched with Become. I/O never blocks: every transport call is piped back as a message tagged with
/// the connection generation, so results of an old connection are recognised and ignored. Concerns are split
/// over partial files: Connection (connect, backoff, SAS renewal, stop), Telemetry, Twin, Methods (and C2D).
/// </summary>
public sealed partial class DeviceActor : ReceiveActor, IWithTimers, IWithStash
{
    private const string RetryTimer = "retry";
    private const string TelemetryTimer = "telemetry";
    private const string SasTimer = "sas";
    private const string DrainTimer = "drain";
    private const string PubAckTimer = "puback";
    private const string TwinGetTimer = "twin-get";
    private const string ReportTimer = "report";
    private const string UploadTimer = "upload";

    private readonly DeviceIdentity _identity;
    private readonly DeviceGroup _group;
    private readonly DeviceOptions _options;
    private readonly DeviceMetrics _metrics;
    private readonly DeviceTopics _topics;
    private readonly TelemetryBuffer _telemetry;
    private readonly ILoggingAdapter? _debug;
    private IDeviceTransport? _transport;
    private DeviceRandom _random;
    private DeviceState _state;
    private string? _stoppedReason;
    private IActorRef? _stopRequester;
    private int _restarts;

    public DeviceActor(DeviceIdentity identity, DeviceGroup group)
    {
        _identity = identity;
        _group = group;
        _options = group.Options;
        _metrics = group.Metrics;
        _topics = new DeviceTopics(identity.DeviceId);
        var telemetry = _options.Telemetry;
        _telemetry = new TelemetryBuffer(telemetry?.InFlightWindow ?? 1, telemetry?.OfflineQueueCapacity ?? 0);
        _random = DeviceRandom.ForDevice(_options.Seed, identity.Index);
        _userToken = identity.SasToken;
        if (_options.DebugDeviceIds.Contains(identity.DeviceId))
            _debug = Context.GetLogger();
        Idle();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    /// <summary>
    /// Props for one device of <paramref name="group"/>. Built from arguments, not from an expression tree:
    /// expression-based Props cost a compile per device, which shows at 100k devices.
    /// </summary>
    public static Props Props(DeviceIdentity identity, DeviceGroup group) =>
        Akka.Actor.Props.Create<DeviceActor>(identity, group);

    protected override void PreStart()
    {
        _transport = _group.Transports.Create(_identity, _options, _topics);
        _transport.Attach(Self);
    }

    protected override void PreRestart(Exception reason, object message)
    {
        // The successor (same mailbox) continues the sequence and re-sends what was not acknowledged.
        Self.Tell(new Restored(_lastSequence, _restarts + 1, _desiredVersion, _telemetry.TakeAll()));
        Context.GetLogger().Warning("device {0} crashed in {1} and restarts: {2}", _identity.DeviceId, _state,
            Redaction.Redact(reason.Message));
        base.PreRestart(reason, message);
    }

    protected override void PostStop()
    {
        ReleaseConnectSlot();
        if (_generation != 0)
        {
            _generation = 0;
            _metrics.Connected.Decrement();
            _group.GroupCounters?.Connected.Decrement();
            _options.ConnectionObserver?.Disconnected(_identity.Index);
        }

        StopTelemetrySchedule();
        _telemetry.Clear();
        _transport?.Dispose();
        _transport = null;
        DisposeUploadClient();
    }

    // ---- States: Idle and Stopped (the connection states are in DeviceActor.Connection.cs) ----

    private void Idle()
    {
        Receive<Start>(s =>
        {
            _lastSequence = Math.Max(_lastSequence, s.ResumeAfterSequence);
            _twinChecked = false;
            _connectIntendedTimestamp = s.IntendedTimestamp;
            BeginConnect();
        });
        Receive<Restored>(OnRestored);
        Receive<Stop>(_ => EnterStopped("stopped", Sender));
        Receive<GetStatus>(_ => ReplyStatus());
        ReceiveBehaviourControl();
        ReceiveAny(IgnoreStale);
    }

    private void Stopped()
    {
        // A device stopped on request (a ramp-down) may be started again; one stopped by the hub (unauthorized) may not.
        Receive<Start>(_ => _stoppedReason == "stopped", s =>
        {
            _stoppedReason = null;
            ResumeHeldTelemetry();
            _lastSequence = Math.Max(_lastSequence, s.ResumeAfterSequence);
            _twinChecked = false;
            _connectIntendedTimestamp = s.IntendedTimestamp;
            BeginConnect();
        });
        ReceiveBehaviourControl();
        Receive<TelemetryAcked>(OnAckWhileStopped);
        Receive<Stop>(_ => Sender.Tell(new DeviceStopped(_identity.DeviceId, _identity.Index, _stoppedReason ?? "stopped")));
        Receive<GetStatus>(_ => ReplyStatus());
        ReceiveAny(IgnoreStale);
    }

    private void OnRestored(Restored r)
    {
        _restarts = r.Restarts;
        _lastSequence = r.LastSequence;
        _desiredVersion = r.DesiredVersion;
        foreach (var item in r.Pending)
        {
            if (item.Published)
                _telemetry.AddInFlight(item);
            else
                _telemetry.Enqueue(item);
        }

        var delay = _options.Retry.NextDelay(_restarts - 1, FailureKind.Network, ref _random);
        Timers.StartSingleTimer(RetryTimer, new Start(_options.Time.GetTimestamp()), delay);
    }

    private void EnterStopped(string reason, IActorRef? requester = null)
    {
        ReleaseConnectSlot();
        Timers.CancelAll();
        StopTelemetrySchedule();
        _behavioursStarted = false; // a device started again after a ramp-down starts its behaviours again
        _stoppedReason = reason;
        if (_generation != 0)
        {
            _generation = 0;
            _metrics.Connected.Decrement();
            _group.GroupCounters?.Connected.Decrement();
            _options.ConnectionObserver?.Disconnected(_identity.Index);
            ObserveQuietly(SafeCall(static t => t.DisconnectAsync(), _transport));
        }

        KeepOrDiscardTelemetry(reason);
        _metrics.StoppedBecause(reason).Increment();
        RecordTwinCheck(false, 0, reason == "stopped" ? "not connected when it stopped" : "stopped: " + reason);
        if (_lostAtTimestamp != 0)
        {
            // Stopped while disconnected: the outage ends here (recovery tells a ramp-down from a device that gave up).
            _metrics.Recovery.Stopped(_identity.DeviceId, _options.Time.GetUtcNow(), reason);
            _lostAtTimestamp = 0;
        }

        Transition(DeviceState.Stopped, Stopped);
        var stopped = new DeviceStopped(_identity.DeviceId, _identity.Index, reason);
        Context.Parent.Tell(stopped);
        requester ??= _stopRequester;
        if (requester is not null && !requester.IsNobody() && !requester.Equals(Context.Parent))
            requester.Tell(stopped);
    }

    // ---- Shared helpers ----

    private void Transition(DeviceState to, Action behavior)
    {
        _debug?.Debug("device {0}: {1} -> {2}", _identity.DeviceId, _state, to);
        _state = to;
        Become(behavior);
        Stash.UnstashAll();
    }

    private void ReplyStatus() =>
        Sender.Tell(new DeviceStatus(_state, _lastSequence, _telemetry.InFlight, _telemetry.Queued, _desiredVersion, _stoppedReason));

    /// <summary>
    /// Results of earlier connections, timers of states already left: expected, harmless, dropped on purpose.
    /// A QoS 1 message dropped here is not acknowledged, so the hub delivers it again on the next connection.
    /// </summary>
    private void IgnoreStale(object message)
    {
        _debug?.Debug("device {0}: ignored {1} in {2}", _identity.DeviceId, message.GetType().Name, _state);
    }

    private static Task SafeCall(Func<IDeviceTransport, Task> call, IDeviceTransport? transport)
    {
        if (transport is null)
            return Task.CompletedTask;
        try
        {
            return call(transport);
        }
        catch (Exception e)
        {
            return Task.FromException(e);
        }
    }

    private static Task SafeCall<T>(Func<IDeviceTransport, T, Task> call, IDeviceTransport? transport, T argument)
    {
        if (transport is null)
            return Task.CompletedTask;
        try
        {
            return call(transport, argument);
        }
        catch (Exception e)
        {
            return Task.FromException(e);
        }
    }

    /// <summary>Fire-and-forget I/O whose outcome does not matter (its failure must not go unobserved).</summary>
    private static void ObserveQuietly(Task task)
    {
        if (!task.IsCompleted || task.IsFaulted)
            task.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static string Describe(Exception e) => Redaction.Redact($"{e.GetType().Name}: {e.GetBaseException().Message}");
}
