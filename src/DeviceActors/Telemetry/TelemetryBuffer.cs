using System.Buffers;

namespace FleetSim.DeviceActors.Telemetry;

/// <summary>One accepted telemetry message: its sequence number, when it was meant to go out, and its pooled body.</summary>
internal struct TelemetryItem
{
    public long Sequence;
    public long IntendedTimestamp;
    public long SentAtUnixMs;
    public byte[] Buffer;
    public int Length;

    /// <summary>"&amp;name=value…" of the per-message properties (encoded), or null; the same on every (re-)send.</summary>
    public string? DynamicSuffix;

    /// <summary>Connection generation it was last published on; 0 while it waits to be (re)sent.</summary>
    public int Generation;

    /// <summary>True once it has been handed to the transport at least once (later sends are re-sends).</summary>
    public bool Published;

    /// <summary>Stopwatch timestamp of the last hand-over to the transport (the PUBACK wait starts there).</summary>
    public long PublishedTimestamp;

    public readonly ReadOnlyMemory<byte> Body => new(Buffer, 0, Length);
}

/// <summary>
/// A device's telemetry that is not yet acknowledged: a bounded FIFO of messages waiting to be sent and a small
/// table of messages in flight (published, PUBACK pending). Both grow on demand, so an idle device costs a few
/// bytes. Messages in flight when a connection drops stay in the table and are re-sent, with the same sequence
/// number, after the next connect; an acknowledgement that arrives late for one of them still counts.
/// </summary>
internal sealed class TelemetryBuffer
{
    private readonly int _window;
    private readonly int _capacity;
    private TelemetryItem[] _queue = [];
    private int _head;
    private int _queued;
    private TelemetryItem[] _inFlight = [];
    private int _inFlightCount;

    public TelemetryBuffer(int window, int capacity)
    {
        _window = window;
        _capacity = capacity;
    }

    public int Queued => _queued;

    public int InFlight => _inFlightCount;

    public bool WindowFull => _inFlightCount >= _window;

    public bool QueueFull => _queued >= _capacity;

    public void Enqueue(in TelemetryItem item)
    {
        if (_queued == _queue.Length)
            GrowQueue();
        _queue[(_head + _queued) % _queue.Length] = item;
        _queued++;
    }

    public TelemetryItem Dequeue()
    {
        var item = _queue[_head];
        _queue[_head] = default;
        _head = (_head + 1) % _queue.Length;
        _queued--;
        return item;
    }

    /// <summary>Adds a published message to the in-flight table (the caller checked the window).</summary>
    public void AddInFlight(in TelemetryItem item)
    {
        if (_inFlightCount == _inFlight.Length)
            Array.Resize(ref _inFlight, Math.Min(Math.Max(4, _inFlight.Length * 2), Math.Max(_window, 1)));
        _inFlight[_inFlightCount++] = item;
    }

    /// <summary>Removes the in-flight message with <paramref name="sequence"/>; false if it is not there (already acknowledged).</summary>
    public bool TryRemoveInFlight(long sequence, out TelemetryItem item)
    {
        for (var i = 0; i < _inFlightCount; i++)
        {
            if (_inFlight[i].Sequence != sequence)
                continue;
            item = _inFlight[i];
            _inFlight[i] = _inFlight[--_inFlightCount];
            _inFlight[_inFlightCount] = default;
            return true;
        }

        item = default;
        return false;
    }

    /// <summary>Marks an in-flight message as waiting to be re-sent (its publish failed on the current connection).</summary>
    public bool MarkForResend(long sequence, int generation)
    {
        for (var i = 0; i < _inFlightCount; i++)
        {
            if (_inFlight[i].Sequence == sequence && _inFlight[i].Generation == generation)
            {
                _inFlight[i].Generation = 0;
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Marks every in-flight message as waiting to be re-sent (its connection is gone: a stop). They keep their
    /// sequence numbers, so a device started again re-sends them first and the hub sees no gap.
    /// </summary>
    public void MarkAllForResend()
    {
        for (var i = 0; i < _inFlightCount; i++)
            _inFlight[i].Generation = 0;
    }

    /// <summary>Index of the lowest-sequence in-flight message not published on <paramref name="generation"/>, or -1.</summary>
    public int NextToResend(int generation)
    {
        var best = -1;
        for (var i = 0; i < _inFlightCount; i++)
        {
            if (_inFlight[i].Generation != generation && (best < 0 || _inFlight[i].Sequence < _inFlight[best].Sequence))
                best = i;
        }

        return best;
    }

    public ref TelemetryItem InFlightAt(int index) => ref _inFlight[index];

    /// <summary>The earliest publish timestamp of the messages in flight on <paramref name="generation"/>, or null when none waits.</summary>
    public long? OldestPublished(int generation)
    {
        long? oldest = null;
        for (var i = 0; i < _inFlightCount; i++)
        {
            if (_inFlight[i].Generation == generation && (oldest is null || _inFlight[i].PublishedTimestamp < oldest))
                oldest = _inFlight[i].PublishedTimestamp;
        }

        return oldest;
    }

    /// <summary>Returns every buffer to the pool and forgets everything; returns how many messages were in flight.</summary>
    public int Clear() => Clear(out _);

    /// <summary>Returns every buffer to the pool and forgets everything; returns how many messages were in flight, and <paramref name="queued"/> how many waited.</summary>
    public int Clear(out int queued)
    {
        var inFlight = _inFlightCount;
        queued = _queued;
        for (var i = 0; i < _inFlightCount; i++)
            ArrayPool<byte>.Shared.Return(_inFlight[i].Buffer);
        while (_queued > 0)
            ArrayPool<byte>.Shared.Return(Dequeue().Buffer);
        _inFlight = [];
        _inFlightCount = 0;
        _queue = [];
        _head = 0;
        _queued = 0;
        return inFlight;
    }

    /// <summary>Hands over everything unacknowledged, oldest first, buffers included (to a restarted actor), and forgets it.</summary>
    public TelemetryItem[] TakeAll()
    {
        var all = new TelemetryItem[_inFlightCount + _queued];
        for (var i = 0; i < _inFlightCount; i++)
            all[i] = _inFlight[i] with { Generation = 0 };
        for (var i = 0; i < _queued; i++)
            all[_inFlightCount + i] = _queue[(_head + i) % _queue.Length];
        Array.Sort(all, static (a, b) => a.Sequence.CompareTo(b.Sequence));
        _inFlight = [];
        _inFlightCount = 0;
        _queue = [];
        _head = 0;
        _queued = 0;
        return all;
    }

    private void GrowQueue()
    {
        var size = Math.Min(Math.Max(4, _queue.Length * 2), Math.Max(_capacity, 1));
        var grown = new TelemetryItem[size];
        for (var i = 0; i < _queued; i++)
            grown[i] = _queue[(_head + i) % _queue.Length];
        _queue = grown;
        _head = 0;
    }
}
