using Akka.Actor;
using Akka.Event;
using FleetSim.Metrics;
using FleetSim.Reporting;
using FleetSim.Scenarios.Load;
using FleetSim.Scenarios.Model;

namespace FleetSim.Scenarios.Running;

/// <summary>
/// Drives one run through its load phases: on every tick it asks the <see cref="LoadSchedule"/> how many devices
/// should be active and starts or stops the difference (each start carrying the moment the schedule asked for it),
/// applies each phase's telemetry rate and pauses, samples the metrics once a second, checks thresholds when the
/// scenario aborts on a breach, and at the end stops the fleet and tells whoever started it how the run ended.
/// With a <see cref="LoadPacing"/> (a hub tier's limits) it follows the paced phases, so devices start no faster than the
/// hub's connect limit allows, and sets every telemetry interval that much longer that the fleet stays under its send limit.
/// A tick that comes late (a busy machine) does not start the devices that fell due meanwhile all at once when connects are
/// paced: the hub's connect bucket holds about one second of them, so they start at the paced rate (the ramp ends later).
/// States: Idle -> Running -> Stopping -> (stopped).
/// </summary>
public sealed class ScenarioRunner : ReceiveActor, IWithTimers
{
    public sealed record Start;
    public sealed record Abort(string Reason);
    public sealed record Finished(string Outcome, bool Completed, ThresholdOutcome? Breach, int Started, int Peak)
    {
        /// <summary>When the runner began stopping the fleet (null when it never started): devices still disconnected then never came back.</summary>
        public DateTimeOffset? StoppingAt { get; init; }

        /// <summary>When the runner started the scenario's clock (null when it never started): fault and phase times count from here.</summary>
        public DateTimeOffset? StartedAt { get; init; }
    }
    public sealed record FleetStopped;

    private sealed record Tick;
    private sealed record SampleTick;
    private sealed record StopDeadline;
    private sealed record DrainCheck;

    public static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>Ticks that came more than <see cref="LateTickThreshold"/> after the previous one: the generator's own
    /// dispatcher was busy (CPU saturated or a mailbox backlog), so the schedule was followed late.</summary>
    public const string LateTicks = "generator.lateTicks";

    public const string WorstTickLagMs = "generator.worstTickLagMs";

    /// <summary>Seconds in which this process used (nearly) all cores.</summary>
    public const string CpuSaturatedSeconds = "generator.cpuSaturatedSeconds";

    /// <summary>Messages per second the paced fleet is asked for (telemetry.askedRate is what the scenario asked); only when telemetry is paced.</summary>
    public const string PacedTelemetryRate = "telemetry.pacedRate";

    public static readonly TimeSpan LateTickThreshold = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Scenario _scenario;
    private readonly LoadSchedule _schedule;
    private readonly DeviceOrder _order;
    private readonly IFleetDriver _fleet;
    private readonly FleetMetrics _metrics;
    private readonly Func<IngestTotals?>? _ingest;
    private readonly Gauge _asked;
    private readonly Counter _cpuSaturatedSeconds;
    private readonly ServiceLoad? _service;
    private readonly FaultSchedule? _faults;
    private readonly int[] _activeInGroup;
    private readonly double[] _intervalSeconds;
    private readonly Gauge _askedRate;
    private readonly Gauge? _pacedRate;
    private readonly LoadPacing _pacing;
    private readonly TimeSpan _startSpacing; // paced connects: the least time between starts on average (zero: not paced)
    private DateTimeOffset _nextStartAt;     // paced connects: when the next start is due at that rate
    private IActorRef _requester = ActorRefs.Nobody;
    private string? _abortedBeforeStart;
    private DateTimeOffset _startedAt;
    private DateTimeOffset _lastStopAt;
    private DateTimeOffset? _stoppingAt;
    private TimeSpan _lastTick = TimeSpan.MinValue;
    private DateTimeOffset _lastTickAt;
    private readonly Counter _lateTicks;
    private readonly Gauge _worstTickLagMs;
    private readonly GeneratorLoad _load = new();
    private int _active;
    private int _started;
    private int _peak;
    private int _phase = int.MinValue;
    private bool _paused;

    public ScenarioRunner(Scenario scenario, IFleetDriver fleet, FleetMetrics metrics, Func<IngestTotals?>? ingest = null, ServiceLoad? service = null,
        FaultSchedule? faults = null, LoadPacing? pacing = null)
    {
        _pacing = pacing ?? LoadPacing.None(scenario);
        _startSpacing = _pacing is { ConnectsPaced: true, ConnectRate: double rate and > 0 } ? TimeSpan.FromSeconds(1 / rate) : TimeSpan.Zero;
        _scenario = scenario;
        _service = service;
        _faults = faults;
        _activeInGroup = new int[scenario.DeviceGroups.Count];
        _intervalSeconds = new double[scenario.DeviceGroups.Count];
        for (var g = 0; g < _intervalSeconds.Length; g++)
            _intervalSeconds[g] = scenario.DeviceGroups[g].Telemetry?.Interval.TotalSeconds ?? 0;
        _askedRate = metrics.Gauge(Gauges.TelemetryAskedRate);
        _pacedRate = _pacing.TelemetryPaced ? metrics.Gauge(PacedTelemetryRate) : null;
        _lateTicks = metrics.Counter(LateTicks);
        _worstTickLagMs = metrics.Gauge(WorstTickLagMs);
        _cpuSaturatedSeconds = metrics.Counter(CpuSaturatedSeconds);
        _fleet = fleet;
        _metrics = metrics;
        _ingest = ingest;
        _asked = metrics.Gauge("devices.asked");
        var sizes = new int[scenario.DeviceGroups.Count];
        for (var i = 0; i < sizes.Length; i++)
            sizes[i] = scenario.DeviceGroups[i].Count;
        _order = new DeviceOrder(sizes);
        _schedule = new LoadSchedule(_pacing.Load, _pacing.Duration, _order.Count);
        Idle();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(Scenario scenario, IFleetDriver fleet, FleetMetrics metrics, Func<IngestTotals?>? ingest = null, ServiceLoad? service = null,
        FaultSchedule? faults = null, LoadPacing? pacing = null) =>
        Akka.Actor.Props.Create(() => new ScenarioRunner(scenario, fleet, metrics, ingest, service, faults, pacing));

    public LoadSchedule Schedule => _schedule;

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    private void Idle()
    {
        Receive<Start>(_ =>
        {
            _requester = Sender;
            if (_abortedBeforeStart is not null)
            {
                // Ctrl+C can arrive between the host starting and the run's Start: answer at once, never run.
                Finish($"aborted before start: {_abortedBeforeStart}", completed: false, breach: null);
                return;
            }

            _startedAt = Now;
            _lastStopAt = _startedAt;
            _log.Info("run {0}: {1} devices in {2} groups, {3} phases, {4}", _scenario.Name, _order.Count,
                _scenario.DeviceGroups.Count, _scenario.Load.Count, _schedule.Duration);
            if (_pacing.TelemetryPaced)
            {
                // Before the first device starts, so every device begins at the paced interval.
                for (var g = 0; g < _scenario.DeviceGroups.Count; g++)
                {
                    if (_scenario.DeviceGroups[g].Telemetry is { } telemetry)
                        _fleet.SetTelemetryInterval(g, _pacing.PacedInterval(telemetry.Interval));
                }
            }

            Timers.StartPeriodicTimer("tick", new Tick(), TimeSpan.Zero, TickInterval);
            Timers.StartPeriodicTimer("sample", new SampleTick(), TimeSpan.FromSeconds(1));
            Become(Running);
            Self.Tell(new Tick());
        });
        Receive<Abort>(a => _abortedBeforeStart ??= a.Reason);
    }

    private void Running()
    {
        Receive<Tick>(_ => OnTick());
        Receive<SampleTick>(_ => OnSample());
        Receive<Abort>(a => BeginStop(a.Reason, completed: false, breach: null));
    }

    private void OnTick()
    {
        var now = Now;
        if (_lastTickAt != default)
        {
            var gap = now - _lastTickAt;
            if (gap > LateTickThreshold)
            {
                _lateTicks.Increment();
                if (gap.TotalMilliseconds - TickInterval.TotalMilliseconds > _worstTickLagMs.Value)
                    _worstTickLagMs.Set((long)(gap.TotalMilliseconds - TickInterval.TotalMilliseconds));
            }
        }

        _lastTickAt = now;
        var elapsed = now - _startedAt;
        if (elapsed >= _schedule.Duration)
        {
            BeginStop("completed", completed: true, breach: null);
            return;
        }

        ApplyPhase(elapsed);
        var peak = Math.Min(_schedule.MaxTargetBetween(_lastTick, elapsed), _order.Count);
        var target = Math.Min(_schedule.TargetAt(elapsed), _order.Count);
        _lastTick = elapsed;
        _asked.Set(target);
        while (_active < peak && MayStartNow(now))
        {
            var due = _startedAt + _schedule.DueAt(_active + 1, _lastStopAt - _startedAt);
            var (group, index) = _order[_active];
            _fleet.Start(group, index, due);
            _activeInGroup[group]++;
            _active++;
            _started++;
        }

        while (_active > target)
        {
            _active--;
            var (group, index) = _order[_active];
            _fleet.Stop(group, index);
            _activeInGroup[group]--;
            _lastStopAt = Now;
        }

        _peak = Math.Max(_peak, _active);
        var asked = AskedTelemetryRate();
        _askedRate.Set((long)Math.Round(asked));
        _pacedRate?.Set((long)Math.Round(asked / _pacing.TelemetryFactor));
        _service?.Tick(_startedAt, elapsed, _activeInGroup, _paused);
        _faults?.Tick(elapsed, now);
    }

    /// <summary>
    /// True when one more device may start now. Unpaced, always. Paced, at most the paced connect rate on average with a
    /// burst of two (a tick's granularity): starts on schedule always pass, but the devices that fell due during a stall
    /// follow at the paced rate instead of all at once, which would empty the hub's connect bucket (CONNACK 3).
    /// </summary>
    private bool MayStartNow(DateTimeOffset now)
    {
        if (_startSpacing == TimeSpan.Zero)
            return true;
        var next = _nextStartAt > now ? _nextStartAt : now;
        if (next - _startSpacing > now)
            return false;
        _nextStartAt = next + _startSpacing;
        return true;
    }

    private void ApplyPhase(TimeSpan elapsed)
    {
        var current = _schedule.PhaseAt(elapsed);
        var index = current?.Index ?? -1;
        if (index == _phase)
            return;
        _phase = index;
        var phase = current?.Phase;
        var paused = phase is PausePhase;
        if (paused != _paused)
        {
            _paused = paused;
            _fleet.SetPaused(paused);
        }

        if (phase?.Telemetry is { } change)
        {
            for (var g = 0; g < _scenario.DeviceGroups.Count; g++)
            {
                if (_scenario.DeviceGroups[g].Telemetry is { } telemetry)
                {
                    var interval = change.Apply(telemetry.Interval);
                    _intervalSeconds[g] = interval.TotalSeconds;
                    _fleet.SetTelemetryInterval(g, _pacing.PacedInterval(interval));
                }
            }
        }

        if (phase is not null)
            _log.Info("phase {0}: {1}", index + 1, phase.GetType().Name.Replace("Phase", "").ToLowerInvariant());
    }

    /// <summary>Messages per second the schedule asks for now: each active device at its group's current interval.</summary>
    private double AskedTelemetryRate()
    {
        if (_paused)
            return 0;
        var rate = 0.0;
        for (var g = 0; g < _activeInGroup.Length; g++)
        {
            if (_intervalSeconds[g] > 0)
                rate += _activeInGroup[g] / _intervalSeconds[g];
        }

        return rate;
    }

    private void OnSample()
    {
        if (_load.SampleIsSaturated())
            _cpuSaturatedSeconds.Increment();
        SampleNow();
        if (!_scenario.Thresholds.AbortOnBreach || _scenario.Thresholds.Rules.Count == 0)
            return;
        var breach = ThresholdEvaluator.FirstBreach(_scenario.Thresholds.Rules, _metrics.Snapshot(), _ingest?.Invoke());
        if (breach is not null)
            BeginStop($"aborted: threshold breached ({breach.Rule})", completed: false, breach);
    }

    /// <summary>One time-series point; first the hub's loss accounting as gauges, so recovery windows can read its growth.</summary>
    private void SampleNow()
    {
        if (_ingest?.Invoke() is { } hub)
        {
            _metrics.Gauge(RecoveryMetrics.HubLost).Set(hub.Lost);
            _metrics.Gauge(RecoveryMetrics.HubDuplicated).Set(hub.Duplicated);
            _metrics.Gauge(RecoveryMetrics.HubOutOfOrder).Set(hub.OutOfOrder);
        }

        _metrics.Sample(Now);
    }

    private void BeginStop(string outcome, bool completed, ThresholdOutcome? breach)
    {
        Timers.Cancel("tick");
        // Taken before the stop: afterwards every device has disconnected and the gauge reads 0.
        _metrics.Gauge(Gauges.DevicesConnectedAtEnd).Set(_metrics.Gauge(Gauges.DevicesConnected).Value);
        _stoppingAt = Now;
        if (_service is { Outstanding: > 0 })
        {
            // Service calls still in flight (a method a device is answering, a C2D being sent) finish first: stopping
            // their devices under them would count the generator's own stop as hub errors.
            var drainUntil = Now + ServiceLoad.MaxDrain;
            Timers.StartPeriodicTimer("drain", new DrainCheck(), TimeSpan.FromMilliseconds(50));
            Become(() =>
            {
                Receive<SampleTick>(_ => SampleNow());
                Receive<Tick>(_ => { });
                Receive<Abort>(_ => { });
                Receive<DrainCheck>(_ =>
                {
                    if (_service.Outstanding > 0 && Now < drainUntil)
                        return;
                    Timers.Cancel("drain");
                    StopFleet(outcome, completed, breach);
                });
            });
            return;
        }

        StopFleet(outcome, completed, breach);
    }

    private void StopFleet(string outcome, bool completed, ThresholdOutcome? breach)
    {
        _log.Info("run {0}: {1}; stopping {2} devices", _scenario.Name, outcome, _active);
        _fleet.StopAll(Self);
        Timers.StartSingleTimer("stop-deadline", new StopDeadline(), StopTimeout);
        Become(() =>
        {
            Receive<SampleTick>(_ => SampleNow());
            Receive<Tick>(_ => { });
            Receive<Abort>(_ => { }); // already stopping
            Receive<FleetStopped>(_ => Finish(outcome, completed, breach));
            Receive<StopDeadline>(_ => Finish(outcome + $" (devices did not all stop within {StopTimeout.TotalSeconds:0} s)", completed, breach));
        });
    }

    private void Finish(string outcome, bool completed, ThresholdOutcome? breach)
    {
        Timers.CancelAll();
        SampleNow();
        _requester.Tell(new Finished(outcome, completed, breach, _started, _peak)
        {
            StoppingAt = _stoppingAt,
            StartedAt = _startedAt == default ? null : _startedAt,
        });
        Become(() => ReceiveAny(_ => { }));
    }
}
