using Akka.Actor;

namespace FleetSim.DeviceActors;

/// <summary>
/// A per-process limit on connects in flight (TLS handshake + CONNACK + SUBACK). A device takes a slot before it
/// starts a connect and gives it back once subscribed (or failed); a device that finds none waits in a FIFO queue and
/// is told <see cref="Granted"/> when one frees up, so its operation timeout starts only once it actually connects.
/// Without it a starved machine starts every handshake at once, none finishes within the timeout, and all the
/// handshake work is thrown away on retry. One instance is shared by every group of a process (the run or a
/// cluster worker creates it); the lock is held for a queue operation only, once per connect, never per message.
/// </summary>
public sealed class ConnectSlots
{
    /// <summary>
    /// Default slots per core. 16 per core (32 here) was measured too few on a loaded machine: handshakes then wait for
    /// the CPU on both ends, the slots sit idle through those waits, and connects/s fell well below the unlimited
    /// client. On a quiet machine 1,000 devices started at once connected at 0.45-0.52x the raw client's rate with 256
    /// slots, 0.68x with 1,024 and 0.54-0.69x with no limit (bench/README.md, "connect slots, quiet machine"): 512 per
    /// core stays out of the way of a burst a core can handshake in a few seconds, and still keeps a starved machine
    /// from starting thousands of handshakes that all outlive the operation timeout.
    /// </summary>
    public const int DefaultPerCore = 512;

    private readonly object _lock = new();
    private readonly Queue<Ticket> _waiting = new();
    private int _free;
    private int _waitingCount; // the queue less its cancelled tickets

    public ConnectSlots(int limit)
    {
        if (limit <= 0)
            throw new ArgumentOutOfRangeException(nameof(limit), limit, "the limit on connects in flight must be at least 1");
        Limit = limit;
        _free = limit;
    }

    /// <summary>The default size for this machine: <see cref="DefaultPerCore"/> per core.</summary>
    public static int DefaultLimit => DefaultPerCore * Environment.ProcessorCount;

    public int Limit { get; }

    /// <summary>Devices waiting for a slot now.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
                return _waitingCount;
        }
    }

    /// <summary>Slots taken now.</summary>
    public int InUse
    {
        get
        {
            lock (_lock)
                return Limit - _free;
        }
    }

    /// <summary>
    /// Takes a slot (returns null: the caller holds one now) or queues <paramref name="device"/> (returns its ticket:
    /// the device will be told <see cref="Granted"/> carrying that ticket, and then holds a slot).
    /// </summary>
    public Ticket? TryEnter(IActorRef device)
    {
        lock (_lock)
        {
            if (_free > 0)
            {
                _free--;
                return null;
            }

            var ticket = new Ticket(device);
            _waiting.Enqueue(ticket);
            _waitingCount++;
            return ticket;
        }
    }

    /// <summary>Gives a slot back: the longest-waiting device still waiting gets it, else it becomes free.</summary>
    public void Leave()
    {
        Ticket? next = null;
        lock (_lock)
        {
            while (_waiting.Count > 0)
            {
                var candidate = _waiting.Dequeue();
                if (!candidate.Cancelled)
                {
                    candidate.Granted = true;
                    _waitingCount--;
                    next = candidate;
                    break;
                }
            }

            if (next is null)
                _free = Math.Min(Limit, _free + 1);
        }

        next?.Device.Tell(new Granted(next));
    }

    /// <summary>
    /// A waiting device no longer wants its slot (it stopped or died). If the slot was already handed to it
    /// (<see cref="Granted"/> on its way), the caller must <see cref="Leave"/> instead; this returns false then.
    /// </summary>
    public bool Cancel(Ticket ticket)
    {
        lock (_lock)
        {
            if (ticket.Granted)
                return false;
            if (!ticket.Cancelled)
                _waitingCount--;
            ticket.Cancelled = true;
            return true;
        }
    }

    /// <summary>A place in the queue.</summary>
    public sealed class Ticket(IActorRef device)
    {
        internal IActorRef Device { get; } = device;

        internal bool Cancelled { get; set; }

        internal bool Granted { get; set; }
    }

    /// <summary>Told to a waiting device: it holds a slot now.</summary>
    public sealed record Granted(Ticket Ticket);
}
