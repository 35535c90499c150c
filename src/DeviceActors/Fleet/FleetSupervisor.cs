using Akka.Actor;
using Akka.Event;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Transport;
using FleetSim.Metrics;

namespace FleetSim.DeviceActors.Fleet;

/// <summary>
/// Creates devices at a connect rate (tokens from an Akka timer, never a loop), supervises them (a crashing
/// device restarts alone, with its state handed over, and restarts are counted; the fleet never dies) and stops
/// them all cleanly on request.
/// </summary>
public sealed partial class FleetSupervisor : ReceiveActor, IWithTimers
{
    /// <summary>Pacing tick; at rates above 50/s several devices start per tick.</summary>
    private static readonly TimeSpan MinTick = TimeSpan.FromMilliseconds(20);

    private const string PaceTimer = "pace";
    private const string StopTimer = "stop-deadline";

    private readonly DeviceMetrics _metrics;
    private readonly IDeviceTransportFactory? _transports;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<Batch> _batches = [];
    private readonly List<DeviceGroup> _groups = [];
    private readonly HashSet<IActorRef> _running = [];
    private readonly Dictionary<string, int> _stopReasons = new(StringComparer.Ordinal);
    private IActorRef? _stopRequester;
    private int _created;
    private int _notStarted;
    private bool _stopping;

    public FleetSupervisor(FleetMetrics metrics, IDeviceTransportFactory? transports)
    {
        _metrics = new DeviceMetrics(metrics);
        _transports = transports;

        Receive<StartDevices>(OnStartDevices);
        Receive<PaceTick>(_ => Pace());
        Receive<DeviceActor.DeviceStopped>(OnDeviceStopped);
        Receive<Terminated>(t =>
        {
            MarkStopped(t.ActorRef, "crashed");
            ForgetDevice(t.ActorRef);
        });
        Receive<StopAll>(OnStopAll);
        Receive<StopDeadline>(_ => ReplyAllStopped(timedOut: true));
        ReceiveScenarioControl();
        Receive<GetFleetStatus>(_ => Sender.Tell(new FleetStatus(_created, _running.Count, StoppedCount, _notStarted, Pending)));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(FleetMetrics metrics, IDeviceTransportFactory? transports = null) =>
        Akka.Actor.Props.Create<FleetSupervisor>(metrics, transports);

    // ---- Protocol ----

    /// <summary>Create these devices at <paramref name="ConnectsPerSecond"/> (0 or less: all at once). The sender gets <see cref="DevicesCreated"/>.</summary>
    public sealed record StartDevices(IReadOnlyList<DeviceIdentity> Devices, DeviceOptions Options, double ConnectsPerSecond);

    /// <summary>The options of a <see cref="StartDevices"/> were invalid; no device was created.</summary>
    public sealed record StartRejected(IReadOnlyList<string> Errors);

    /// <summary>All devices of one <see cref="StartDevices"/> exist (they may still be connecting).</summary>
    public sealed record DevicesCreated(int Count, int Skipped);

    /// <summary>Stop every device cleanly; the sender gets <see cref="AllStopped"/> once all have, or at the deadline.</summary>
    public sealed record StopAll(TimeSpan Deadline);

    /// <summary>Every device has stopped (<paramref name="TimedOut"/>: some did not within the deadline).</summary>
    public sealed record AllStopped(int Stopped, int NotStarted, int StillRunning, bool TimedOut, IReadOnlyDictionary<string, int> Reasons);

    public sealed record GetFleetStatus
    {
        public static GetFleetStatus Instance { get; } = new();
    }

    public sealed record FleetStatus(int Created, int Running, int Stopped, int NotStarted, int Pending);

    private sealed record PaceTick
    {
        public static PaceTick Instance { get; } = new();
    }

    private sealed record StopDeadline
    {
        public static StopDeadline Instance { get; } = new();
    }

    private sealed class Batch(IReadOnlyList<DeviceIdentity> devices, DeviceGroup group, double perTick, long start, double rate, IActorRef requester)
    {
        public IReadOnlyList<DeviceIdentity> Devices { get; } = devices;
        public DeviceGroup Group { get; } = group;
        public double PerTick { get; } = perTick;
        public long StartTimestamp { get; } = start;
        public double Rate { get; } = rate;
        public IActorRef Requester { get; } = requester;
        public double Tokens { get; set; }
        public int Next { get; set; }
        public int Skipped { get; set; }
    }

    // ---- Supervision ----

    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(maxNrOfRetries: 10, withinTimeRange: TimeSpan.FromMinutes(1), localOnlyDecider: e =>
        {
            if (e is ActorInitializationException)
                return Directive.Stop; // a device that cannot even be built would only fail again
            _metrics.Restarts.Increment();
            return Directive.Restart;
        });

    protected override void PostStop()
    {
        foreach (var group in _groups)
            group.Dispose();
    }

    // ---- Behaviour ----

    private int StoppedCount => _stopReasons.Values.Sum();

    private int Pending
    {
        get
        {
            var pending = 0;
            foreach (var b in _batches)
                pending += b.Devices.Count - b.Next;
            return pending;
        }
    }

    private void OnStartDevices(StartDevices start)
    {
        if (_stopping)
        {
            _log.Warning("fleet is stopping: {0} devices not started", start.Devices.Count);
            return;
        }

        var errors = start.Options.Validate();
        if (errors.Count > 0)
        {
            Sender.Tell(new StartRejected(errors));
            return;
        }

        var group = new DeviceGroup(start.Options, _metrics, _transports);
        _groups.Add(group);
        var rate = start.ConnectsPerSecond;
        var unlimited = rate <= 0 || double.IsInfinity(rate) || double.IsNaN(rate);
        var tick = unlimited ? MinTick : TimeSpan.FromSeconds(Math.Max(MinTick.TotalSeconds, 1.0 / rate));
        var batch = new Batch(start.Devices, group, unlimited ? double.PositiveInfinity : rate * tick.TotalSeconds,
            start.Options.Time.GetTimestamp(), unlimited ? double.PositiveInfinity : rate, Sender);
        batch.Tokens = unlimited ? double.PositiveInfinity : 1; // the first device starts at once
        _batches.Add(batch);
        Pace();
        if (_batches.Count > 0 && !Timers.IsTimerActive(PaceTimer))
            Timers.StartPeriodicTimer(PaceTimer, PaceTick.Instance, tick);
    }

    private void Pace()
    {
        for (var b = _batches.Count - 1; b >= 0; b--)
        {
            var batch = _batches[b];
            while (batch.Tokens >= 1 && batch.Next < batch.Devices.Count)
            {
                batch.Tokens -= 1;
                Create(batch, batch.Devices[batch.Next]);
                batch.Next++;
            }

            if (batch.Next >= batch.Devices.Count)
            {
                _batches.RemoveAt(b);
                batch.Requester.Tell(new DevicesCreated(batch.Devices.Count - batch.Skipped, batch.Skipped));
            }
            else
            {
                batch.Tokens = Math.Min(batch.Tokens + batch.PerTick, Math.Max(batch.PerTick, 1) + 1);
            }
        }

        if (_batches.Count == 0)
            Timers.Cancel(PaceTimer);
    }

    private void Create(Batch batch, DeviceIdentity identity)
    {
        var name = Uri.EscapeDataString(identity.DeviceId);
        if (!Context.Child(name).IsNobody())
        {
            batch.Skipped++;
            _log.Warning("device {0} already exists in this fleet; the second one was not started", identity.DeviceId);
            return;
        }

        var device = Context.ActorOf(DeviceActor.Props(identity, batch.Group).WithDispatcher(SchedulerThreadDispatcher.For(Context.System)), name);
        Context.Watch(device);
        _running.Add(device);
        _created++;
        // The intended connect time follows the schedule, so a late tick shows up in connect latency.
        var intended = batch.StartTimestamp + (long)(batch.Next / batch.Rate * batch.Group.Options.Time.TimestampFrequency);
        device.Tell(new DeviceActor.Start(double.IsInfinity(batch.Rate) ? batch.StartTimestamp : intended));
    }

    private void OnDeviceStopped(DeviceActor.DeviceStopped stopped) => MarkStopped(Sender, stopped.Reason);

    private void MarkStopped(IActorRef device, string reason)
    {
        if (!_running.Remove(device))
            return;
        _stopReasons[reason] = _stopReasons.GetValueOrDefault(reason) + 1;
        if (reason == "crashed")
            _metrics.StoppedBecause(reason).Increment();
        if (_stopping && _running.Count == 0)
            ReplyAllStopped(timedOut: false);
    }

    private void OnStopAll(StopAll stop)
    {
        _stopping = true;
        _stopRequester = Sender;
        Timers.Cancel(PaceTimer);
        foreach (var batch in _batches)
            _notStarted += batch.Devices.Count - batch.Next;
        _batches.Clear();
        if (_running.Count == 0)
        {
            ReplyAllStopped(timedOut: false);
            return;
        }

        foreach (var device in _running)
            device.Tell(DeviceActor.Stop.Instance);
        Timers.StartSingleTimer(StopTimer, StopDeadline.Instance, stop.Deadline);
    }

    private void ReplyAllStopped(bool timedOut)
    {
        if (_stopRequester is null)
            return;
        Timers.Cancel(StopTimer);
        _stopRequester.Tell(new AllStopped(StoppedCount, _notStarted, _running.Count, timedOut,
            new Dictionary<string, int>(_stopReasons, StringComparer.Ordinal)));
        _stopRequester = null;
    }
}
