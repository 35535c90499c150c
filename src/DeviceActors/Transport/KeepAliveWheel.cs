using System.Runtime.CompilerServices;

namespace FleetSim.DeviceActors.Transport;

/// <summary>
/// Every connection's keep-alive check on one timer per clock, as the telemetry scheduler serves every device's sends
/// from one thread. A timer per connection woke the runtime's timer thread and a thread-pool thread for each check: a
/// device sending every 30 s with a 60 s keep-alive was checked every 30 s, as many wake-ups as it has messages. Here
/// one timer ticks every <see cref="Tick"/> while a check is pending, and each tick runs the checks that are due, in
/// due order, on that one thread. A check runs at the first tick at or after its due time, so at most one tick late.
/// Cancelling is lazy: a stopped connection's entry stays until its time and is then found to have nothing to do.
/// </summary>
internal sealed class KeepAliveWheel
{
    /// <summary>
    /// How often the wheel turns while a check is pending: a PINGREQ is at most this late, as with MQTTnet's own 250 ms
    /// loop, so even a 1 s keep-alive stays inside the 1.5 periods a broker waits. Four wake-ups a second for the process.
    /// </summary>
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    private static readonly ConditionalWeakTable<TimeProvider, KeepAliveWheel> Wheels = new();
    private readonly TimeProvider _time;
    private readonly PriorityQueue<MqttKeepAlive, long> _queue = new();
    private readonly List<MqttKeepAlive> _due = [];
    private readonly Lock _lock = new();
    private ITimer? _timer;
    private bool _ticking;
    private int _turning;

    private KeepAliveWheel(TimeProvider time) => _time = time;

    /// <summary>The wheel of <paramref name="time"/> (one per clock: the system's, or a test's virtual one).</summary>
    public static KeepAliveWheel For(TimeProvider time) => Wheels.GetValue(time, static t => new KeepAliveWheel(t));

    /// <summary>Checks waiting (including those of connections stopped since, until their time comes).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
                return _queue.Count;
        }
    }

    /// <summary>
    /// Runs <paramref name="keepAlive"/>'s <see cref="MqttKeepAlive.Due"/> at the first tick at or after
    /// <paramref name="due"/> (a timestamp of the wheel's clock). A later call replaces the earlier one.
    /// </summary>
    public void Schedule(MqttKeepAlive keepAlive, long due)
    {
        lock (_lock)
        {
            keepAlive.WheelDue = due;
            _queue.Enqueue(keepAlive, due);
            if (!_ticking)
            {
                _ticking = true;
                if (_timer is null)
                    _timer = _time.CreateTimer(static s => ((KeepAliveWheel)s!).Turn(), this, Tick, Tick);
                else
                    _timer.Change(Tick, Tick);
            }
        }
    }

    private void Turn()
    {
        if (Interlocked.Exchange(ref _turning, 1) == 1)
            return; // the previous tick is still running its checks: this one's are due on the next
        try
        {
            var now = _time.GetTimestamp();
            lock (_lock)
            {
                while (_queue.TryPeek(out var keepAlive, out var due) && due <= now)
                {
                    _queue.Dequeue();
                    if (keepAlive.WheelDue != due)
                        continue; // replaced by a later Schedule (or already taken)
                    keepAlive.WheelDue = 0;
                    _due.Add(keepAlive);
                }

                if (_queue.Count == 0 && _ticking)
                {
                    _ticking = false;
                    _timer!.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                }
            }

            // Outside the lock: a check may send a PINGREQ or schedule itself again.
            foreach (var keepAlive in _due)
                keepAlive.Due();
        }
        finally
        {
            _due.Clear();
            Volatile.Write(ref _turning, 0);
        }
    }
}
