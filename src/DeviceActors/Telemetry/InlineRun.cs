namespace FleetSim.DeviceActors.Telemetry;

/// <summary>
/// Lets the thread that is about to tell a device run the device's mailbox itself (<see cref="SchedulerThreadExecutor"/>)
/// instead of queueing it to the thread pool, which wakes a sleeping worker: the precise scheduler's thread when it
/// delivers a wake-up, and the thread-pool thread on which a publish's PUBACK completes when it tells the device the
/// ack. The mailbox runs as it would on the pool (one thread at a time, the actor the only owner of its state); only
/// the thread differs. Mailboxes run inline one at a time, never nested (a device telling a device queues it to the pool).
/// </summary>
internal static class InlineRun
{
    /// <summary>0: not allowed; 1: allowed, a mailbox may run inline; 2: a mailbox runs inline on this thread.</summary>
    [ThreadStatic]
    private static int t_state;

    /// <summary>
    /// Allows the next mailbox this thread schedules to run here. False (and nothing changes) when it is already allowed
    /// or a mailbox runs inline on this thread (a device telling a device): call <see cref="Disallow"/> only after true.
    /// </summary>
    public static bool Allow()
    {
        if (t_state != 0)
            return false;
        t_state = 1;
        return true;
    }

    public static void Disallow() => t_state = 0;

    /// <summary>True when the caller may run a mailbox inline now (and then must call <see cref="Exit"/>).</summary>
    public static bool TryEnter()
    {
        if (t_state != 1)
            return false;
        t_state = 2;
        return true;
    }

    public static void Exit() => t_state = 1;
}
