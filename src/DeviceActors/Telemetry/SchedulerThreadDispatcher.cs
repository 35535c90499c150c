using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;

namespace FleetSim.DeviceActors.Telemetry;

/// <summary>
/// The dispatcher of a fleet's device actors: the .NET thread pool, except that a device woken by the
/// <see cref="PreciseTelemetryScheduler"/> runs its mailbox at once on the scheduler's thread. A wake-up then costs
/// no thread-pool hop (measured as the bulk of the generator's CPU per message and of its latency at 1 msg/s per
/// device: each hop wakes a sleeping worker), while the actor stays the only owner of its state: the same mailbox
/// runs, one thread at a time, whichever thread runs it. Likewise a telemetry PUBACK: the thread-pool thread on which
/// the publish completes runs the device's mailbox for the ack instead of queueing it (which would wake a second
/// worker). Everything else (connects, other actors' messages, a device told by a device) goes to the thread pool.
/// </summary>
public static class SchedulerThreadDispatcher
{
    /// <summary>The dispatcher's id in an actor system (see <see cref="For"/>).</summary>
    public const string Id = "fleetsim-device-dispatcher";

    private static readonly object Gate = new();

    /// <summary>Registers the dispatcher in <paramref name="system"/> once and returns its id, for <see cref="Props.WithDispatcher"/>.</summary>
    public static string For(ActorSystem system)
    {
        lock (Gate)
        {
            if (system.Dispatchers.HasDispatcher(Id))
                return Id;
            var config = ConfigurationFactory.ParseString(
                    $"id = \"{Id}\"\ntype = Dispatcher\nexecutor = \"{typeof(SchedulerThreadExecutorConfigurator).FullName}, {typeof(SchedulerThreadExecutorConfigurator).Assembly.GetName().Name}\"")
                .WithFallback(system.Dispatchers.DefaultDispatcherConfig);
            system.Dispatchers.RegisterConfigurator(Id, new DispatcherConfigurator(config, system.Dispatchers.Prerequisites));
            return Id;
        }
    }
}

/// <summary>Akka creates it from the dispatcher's config (the executor's type name).</summary>
public sealed class SchedulerThreadExecutorConfigurator(Config config, IDispatcherPrerequisites prerequisites)
    : ExecutorServiceConfigurator(config, prerequisites)
{
    public override ExecutorService Produce(string id) => new SchedulerThreadExecutor(id);
}

/// <summary>Runs a mailbox inline when this thread allowed it (<see cref="InlineRun"/>: a wake-up or a PUBACK being told), else on the thread pool.</summary>
internal sealed class SchedulerThreadExecutor(string id) : ExecutorService(id)
{
    public override void Execute(IRunnable run)
    {
        if (!InlineRun.TryEnter())
        {
            ThreadPool.UnsafeQueueUserWorkItem(static r => r.Run(), run, preferLocal: false); // as Akka's thread-pool executor does
            return;
        }

        try
        {
            run.Run();
        }
        finally
        {
            InlineRun.Exit();
        }
    }

    public override void Shutdown()
    {
        // nothing to stop: the thread pool is the runtime's, the scheduler's thread its own
    }
}
