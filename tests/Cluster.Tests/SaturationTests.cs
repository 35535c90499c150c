using System.Diagnostics;
using FleetSim.Metrics;

namespace FleetSim.Cluster.Tests;

/// <summary>These tests block the process's thread pool, so they run alone (after every other test of the assembly).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ThreadPoolFloodCollection
{
    public const string Name = "thread pool flood (runs alone)";
}

/// <summary>
/// A worker whose devices saturate the thread pool stays a member (bench/SCALE.md attempt 7 lost every worker that way):
/// the .NET thread pool that FleetSim's actors and devices run on is blocked for longer than the failure detector's
/// heartbeat pause, while the coordinator and the worker watch each other. The control runs the worker with Akka's actors
/// on the thread pool, as before <see cref="Hosting.ClusterDispatchers"/>, and shows the same flood loses it.
/// </summary>
[Collection(ThreadPoolFloodCollection.Name)]
public sealed class SaturationTests
{
    /// <summary>A run's pause is 20 s; 5 s keeps these tests short and still far above scheduling jitter on a loaded machine.</summary>
    private const string FastDetection = "akka.cluster.failure-detector.acceptable-heartbeat-pause = 5s";

    /// <summary>More than two pauses: a member whose heartbeats stopped for this long is unreachable.</summary>
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(12);

    [Fact]
    public async Task A_worker_stays_a_reachable_member_while_the_thread_pool_of_its_devices_is_saturated()
    {
        await using var cluster = await InProcessCluster.StartAsync(workers: 1, FastDetection, FastDetection);
        cluster.StartAll();
        await InProcessCluster.Eventually(() => cluster.Metrics.Gauge(Gauges.DevicesConnected).Value == 40, "40 devices connected");

        var watch = await FloodAndWatchAsync(cluster, Window, untilUnreachable: false);

        Assert.True(watch.Saturated, "a work item queued behind the flood ran within the window: the thread pool was not saturated, so this proves nothing");
        Assert.True(watch.Unreachable is null, $"a member became unreachable {watch.Unreachable?.TotalSeconds:0.0} s into the saturation");
        // Once the pool is free, the worker's devices carry on (the worker is still a member and still reports).
        var sent = cluster.Metrics.Counter(Counters.TelemetrySent).Value;
        await InProcessCluster.Eventually(() => cluster.Metrics.Counter(Counters.TelemetrySent).Value > sent, "telemetry reported after the saturation");
    }

    [Fact]
    public async Task Control_a_worker_whose_akka_actors_share_the_saturated_thread_pool_is_lost()
    {
        // The worker as composed before: Akka's default dispatcher (and so its cluster, remoting and sharding) on the thread pool.
        const string clusterOnThreadPool = "akka.actor.default-dispatcher.executor = default-executor";
        await using var cluster = await InProcessCluster.StartAsync(workers: 1, FastDetection, FastDetection + "\n" + clusterOnThreadPool);

        var watch = await FloodAndWatchAsync(cluster, TimeSpan.FromSeconds(40), untilUnreachable: true);

        Assert.True(watch.Unreachable is not null, "the coordinator never found the worker unreachable: the flood does not reach Akka's actors, so the other test proves nothing");
    }

    private sealed record Watch(bool Saturated, TimeSpan? Unreachable);

    /// <summary>
    /// Saturates the thread pool for <paramref name="window"/> (or until a member is unreachable) and watches every
    /// member's view of the cluster, from a thread of its own (the test's own continuations need the thread pool).
    /// </summary>
    private static Task<Watch> FloodAndWatchAsync(InProcessCluster cluster, TimeSpan window, bool untilUnreachable)
    {
        var views = new[] { cluster.CoordinatorSystem }.Concat(cluster.WorkerSystems).Select(Akka.Cluster.Cluster.Get).ToArray();
        var done = new TaskCompletionSource<Watch>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                using var flood = new ThreadPoolFlood();
                var clock = Stopwatch.StartNew();
                TimeSpan? unreachable = null;
                while (clock.Elapsed < window && !(untilUnreachable && unreachable is not null))
                {
                    if (unreachable is null && views.Any(static v => v.State.Unreachable.Count > 0))
                        unreachable = clock.Elapsed;
                    Thread.Sleep(50); // the polling interval of this watch (no test continuation can run meanwhile)
                }

                done.SetResult(new Watch(!flood.ProbeRan, unreachable));
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        }) { IsBackground = true, Name = "saturation-watch" };
        thread.Start();
        return done.Task;
    }

    /// <summary>
    /// Work items that block until disposed, more than the pool adds threads in the window, and a probe queued behind
    /// them that runs only once the pool has a thread free (it does not within the window: the pool was saturated).
    /// </summary>
    private sealed class ThreadPoolFlood : IDisposable
    {
        private const int Blockers = 500;
        private readonly ManualResetEventSlim _gate = new(false);
        private int _probe;

        public ThreadPoolFlood()
        {
            var count = ThreadPool.ThreadCount + Blockers;
            for (var i = 0; i < count; i++)
                ThreadPool.UnsafeQueueUserWorkItem(static gate => gate.Wait(), _gate, preferLocal: false);
            ThreadPool.UnsafeQueueUserWorkItem(static flood => Volatile.Write(ref flood._probe, 1), this, preferLocal: false);
        }

        public bool ProbeRan => Volatile.Read(ref _probe) == 1;

        public void Dispose() => _gate.Set(); // the event is left to the collector: blocked items may still be waking up
    }
}
