using System.Diagnostics;
using Akka.Actor;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.Metrics;

namespace FleetSim.Cluster.Tests;

/// <summary>
/// A worker whose devices saturate their dispatcher stays a member (bench/SCALE.md attempt 7 lost every worker that way).
/// In these tests FleetSim's dispatchers (the devices' and the other FleetSim actors') are one dedicated thread, which the
/// test blocks for longer than two heartbeat pauses: the saturation is exact, and the rest of the process runs on (the
/// .NET thread pool, which socket completions need on Linux: docs/scaling.md). The control composes the worker with
/// Akka's actors on that same thread, as they shared the thread pool with the devices before, and the same block loses it.
/// </summary>
public sealed class SaturationTests
{
    /// <summary>A run's pause is 20 s; 5 s keeps these tests short and still far above scheduling jitter on a loaded machine.</summary>
    private const string FastDetection = "akka.cluster.failure-detector.acceptable-heartbeat-pause = 5s\n";

    /// <summary>More than two pauses: a member whose heartbeats stopped for this long is unreachable.</summary>
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(12);

    [Fact]
    public async Task A_worker_stays_a_reachable_member_while_its_devices_dispatcher_is_saturated()
    {
        const string fleetSimOnOneThread = $$"""
            {{SchedulerThreadDispatcher.Id}} { type = Dispatcher, executor = fork-join-executor, dedicated-thread-pool { thread-count = 1 } }
            {{Hosting.ClusterDispatchers.Work}} = "{{SchedulerThreadDispatcher.Id}}"
            """;
        await using var cluster = await InProcessCluster.StartAsync(workers: 1, FastDetection, FastDetection + fleetSimOnOneThread);
        cluster.StartAll();
        await InProcessCluster.Eventually(() => cluster.Metrics.Gauge(Gauges.DevicesConnected).Value == 40, "40 devices connected");

        var watch = await BlockAndWatchAsync(cluster, Window, untilUnreachable: false);

        Assert.True(watch.Saturated, "a message sent behind the block was handled within the window: the dispatcher was not saturated, so this proves nothing");
        Assert.True(watch.Unreachable is null, $"a member became unreachable {watch.Unreachable?.TotalSeconds:0.0} s into the saturation");
        // Once the dispatcher is free, the worker's devices carry on (the worker is still a member and still reports).
        var sent = cluster.Metrics.Counter(Counters.TelemetrySent).Value;
        await InProcessCluster.Eventually(() => cluster.Metrics.Counter(Counters.TelemetrySent).Value > sent, "telemetry reported after the saturation");
    }

    [Fact]
    public async Task Control_a_worker_whose_akka_actors_share_the_saturated_dispatcher_is_lost()
    {
        // Everything of the worker on one thread, as everything shared the thread pool before ClusterDispatchers.
        const string allOnOneThread = $$"""
            akka.actor.default-dispatcher.dedicated-thread-pool.thread-count = 1
            {{SchedulerThreadDispatcher.Id}} = "akka.actor.default-dispatcher"
            {{Hosting.ClusterDispatchers.Work}} = "akka.actor.default-dispatcher"
            """;
        await using var cluster = await InProcessCluster.StartAsync(workers: 1, FastDetection, FastDetection + allOnOneThread);

        var watch = await BlockAndWatchAsync(cluster, TimeSpan.FromSeconds(40), untilUnreachable: true);

        Assert.True(watch.Unreachable is not null, "the coordinator never found the worker unreachable: the block does not reach Akka's actors, so the other test proves nothing");
    }

    private sealed record Watch(bool Saturated, TimeSpan? Unreachable);

    /// <summary>
    /// Blocks the worker's FleetSim dispatcher (an actor under /user waits on a gate) for <paramref name="window"/>, or until
    /// a member is unreachable, while watching every member's view of the cluster; then frees it.
    /// </summary>
    private static async Task<Watch> BlockAndWatchAsync(InProcessCluster cluster, TimeSpan window, bool untilUnreachable)
    {
        var worker = cluster.WorkerSystems[0];
        var views = new[] { cluster.CoordinatorSystem, worker }.Select(Akka.Cluster.Cluster.Get).ToArray();
        using var gate = new ManualResetEventSlim(false);
        var blocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probed = 0;
        worker.ActorOf(Props.Create(() => new Blocker(gate, blocked)), "blocker").Tell(Blocker.Block.Instance);
        await blocked.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var probe = worker.ActorOf(Props.Create(() => new Probe(() => Interlocked.Exchange(ref probed, 1))), "probe");
        probe.Tell(Probe.Ping.Instance);
        try
        {
            var clock = Stopwatch.StartNew();
            TimeSpan? unreachable = null;
            while (clock.Elapsed < window && !(untilUnreachable && unreachable is not null))
            {
                if (unreachable is null && views.Any(static v => v.State.Unreachable.Count > 0))
                    unreachable = clock.Elapsed;
                await Task.Delay(50);
            }

            return new Watch(Volatile.Read(ref probed) == 0, unreachable);
        }
        finally
        {
            gate.Set();
        }
    }

    /// <summary>Holds its dispatcher's thread until the gate opens (a device dispatcher with more work than threads).</summary>
    private sealed class Blocker : ReceiveActor
    {
        public Blocker(ManualResetEventSlim gate, TaskCompletionSource blocked) => Receive<Block>(_ =>
        {
            blocked.TrySetResult();
            gate.Wait(TimeSpan.FromMinutes(2));
        });

        public sealed record Block
        {
            public static Block Instance { get; } = new();
        }
    }

    /// <summary>Runs on the same dispatcher: its message is handled only once the dispatcher has a thread free.</summary>
    private sealed class Probe : ReceiveActor
    {
        public Probe(Action handled) => Receive<Ping>(_ => handled());

        public sealed record Ping
        {
            public static Ping Instance { get; } = new();
        }
    }
}
