using System.Diagnostics;
using System.Runtime.InteropServices;
using Akka.Actor;

namespace FleetSim.DeviceActors.Telemetry;

/// <summary>
/// Wakes devices at their telemetry send times. The default, <see cref="PreciseTelemetryScheduler.Shared"/>, serves
/// every device of the process from one thread with sub-millisecond waits (Akka's scheduler ticks every 10 ms, which
/// showed as 10+ ms of generator-added latency). Devices whose clock is not the system clock (virtual time in tests)
/// use their Akka timers instead, so tests stay deterministic.
/// </summary>
public interface ITelemetryScheduler
{
    /// <summary>
    /// Tells <paramref name="device"/> a <see cref="TelemetryWakeUp"/> at <paramref name="firstDue"/> and every
    /// <paramref name="period"/> after it (both <see cref="Stopwatch"/> timestamps and ticks), until cancelled. A wake-up
    /// is not told again while the previous one is still in the device's mailbox (<see cref="TelemetryRegistration.Taken"/>):
    /// a device that falls behind catches up from its own schedule, and its mailbox does not grow.
    /// </summary>
    TelemetryRegistration Schedule(IActorRef device, long firstDue, long period);
}

/// <summary>One device's periodic wake-up; <see cref="Cancel"/> it when the schedule changes or the device stops.</summary>
public sealed class TelemetryRegistration
{
    private volatile bool _cancelled;
    private int _pending;

    internal TelemetryRegistration(IActorRef device, long firstDue, long period)
    {
        Device = device;
        Due = firstDue;
        Period = Math.Max(1, period);
        WakeUp = new TelemetryWakeUp(this);
    }

    internal IActorRef Device { get; }

    internal long Due { get; set; }

    internal long Period { get; }

    internal TelemetryWakeUp WakeUp { get; }

    public bool IsCancelled => _cancelled;

    public void Cancel() => _cancelled = true;

    /// <summary>The device took the wake-up from its mailbox: the next one may be told.</summary>
    public void Taken() => Volatile.Write(ref _pending, 0);

    /// <summary>True when no wake-up is waiting in the mailbox (and marks one as waiting).</summary>
    internal bool TryMarkPending() => Interlocked.Exchange(ref _pending, 1) == 0;

    /// <summary>Moves <see cref="Due"/> to the first slot after <paramref name="now"/> (slots the device missed it catches up itself).</summary>
    internal void AdvancePast(long now)
    {
        var behind = now - Due;
        Due += behind < 0 ? Period : (behind / Period + 1) * Period;
    }
}

/// <summary>The message a <see cref="ITelemetryScheduler"/> tells a device when telemetry is due.</summary>
public sealed record TelemetryWakeUp(TelemetryRegistration Registration);

/// <summary>
/// One dedicated thread, a queue ordered by due time, and waits that end within tens of microseconds of the due
/// time: a monitor wait (which new, earlier registrations interrupt) until shortly before it, then a high-resolution
/// sleep on Linux. Every wake-up delivers all registrations due by then, so N devices cost at most one wake per due
/// instant, not one timer each.
/// </summary>
public sealed class PreciseTelemetryScheduler : ITelemetryScheduler, IDisposable
{
    private static readonly Lazy<PreciseTelemetryScheduler> LazyShared = new(() => new PreciseTelemetryScheduler());
    private static readonly long CoarseMargin = Stopwatch.Frequency * 2 / 1000; // wait on the monitor until 2 ms before

    /// <summary>
    /// Up to this many devices due at one wake-up run inline on this thread (<see cref="SchedulerThreadDispatcher"/>);
    /// a larger batch (a high rate, or a scheduler that fell behind) goes to the thread pool, whose threads work in parallel.
    /// </summary>
    private const int InlineLimit = 4;

    private readonly PriorityQueue<TelemetryRegistration, long> _queue = new();
    private readonly object _lock = new(); // Monitor, not Lock: the thread waits on it
    private readonly Thread _thread;
    private long _sleepingUntil = long.MaxValue;
    private bool _disposed;

    public PreciseTelemetryScheduler()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "fleetsim-telemetry", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    /// <summary>The process-wide scheduler every device on the system clock shares.</summary>
    public static PreciseTelemetryScheduler Shared => LazyShared.Value;

    /// <summary>Registrations waiting (including cancelled ones not yet reached).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
                return _queue.Count;
        }
    }

    public TelemetryRegistration Schedule(IActorRef device, long firstDue, long period)
    {
        var registration = new TelemetryRegistration(device, firstDue, period);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _queue.Enqueue(registration, firstDue);
            if (firstDue < _sleepingUntil)
                Monitor.PulseAll(_lock); // wake the thread: this one is due before the one it waits for
        }

        return registration;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            Monitor.PulseAll(_lock);
        }

        if (Thread.CurrentThread != _thread)
            _thread.Join(TimeSpan.FromSeconds(5));
    }

    private void Run()
    {
        var due = new List<TelemetryRegistration>();
        while (true)
        {
            lock (_lock)
            {
                while (true)
                {
                    if (_disposed)
                        return;
                    if (!_queue.TryPeek(out _, out var next))
                    {
                        _sleepingUntil = long.MaxValue;
                        Monitor.Wait(_lock);
                        continue;
                    }

                    var wait = next - Stopwatch.GetTimestamp();
                    if (wait <= CoarseMargin)
                        break;
                    _sleepingUntil = next;
                    Monitor.Wait(_lock, (int)Math.Min(int.MaxValue, (wait - CoarseMargin) * 1000 / Stopwatch.Frequency + 1));
                }

                _sleepingUntil = long.MinValue; // short precise sleep ahead: registrations need not wake it
            }

            SleepUntil(PeekDue());
            var now = Stopwatch.GetTimestamp();
            lock (_lock)
            {
                while (_queue.TryPeek(out var registration, out var at) && at <= now)
                {
                    _queue.Dequeue();
                    if (registration.IsCancelled)
                        continue;
                    due.Add(registration);
                    registration.AdvancePast(now);
                    _queue.Enqueue(registration, registration.Due);
                }
            }

            var inline = due.Count <= InlineLimit && InlineRun.Allow();
            try
            {
                foreach (var registration in due)
                {
                    if (registration.TryMarkPending())
                        registration.Device.Tell(registration.WakeUp, ActorRefs.NoSender);
                }
            }
            finally
            {
                if (inline)
                    InlineRun.Disallow();
            }

            due.Clear();
        }
    }

    private long PeekDue()
    {
        lock (_lock)
            return _queue.TryPeek(out _, out var next) ? next : Stopwatch.GetTimestamp();
    }

    private static void SleepUntil(long timestamp)
    {
        var remaining = timestamp - Stopwatch.GetTimestamp();
        if (remaining <= 0)
            return;
        if (OperatingSystem.IsLinux())
        {
            var nanos = (long)(remaining * (1_000_000_000.0 / Stopwatch.Frequency));
            var request = new Timespec { Seconds = nanos / 1_000_000_000, Nanoseconds = nanos % 1_000_000_000 };
            _ = NativeSleep.nanosleep(ref request, IntPtr.Zero); // an early return (a signal) just means an early check
            return;
        }

        // Elsewhere: millisecond sleeps, then yield until the due time.
        while ((remaining = timestamp - Stopwatch.GetTimestamp()) > 0)
        {
            if (remaining * 1000 / Stopwatch.Frequency >= 2)
                Thread.Sleep(1);
            else
                Thread.Yield();
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    private static class NativeSleep
    {
        [DllImport("libc", SetLastError = false)]
#pragma warning disable SA1300, IDE1006 // the C function's name
        public static extern int nanosleep(ref Timespec request, IntPtr remaining);
#pragma warning restore SA1300, IDE1006
    }
}
