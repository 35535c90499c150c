using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using FleetSim.Cluster.Hosting;
using FleetSim.Cluster.Worker;
using FleetSim.DeviceActors.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace FleetSim.Cluster.Tests;

/// <summary>
/// Where a cluster member's actors run (<see cref="ClusterDispatchers"/>): Akka's remoting, cluster and sharding actors on
/// dedicated threads, FleetSim's devices on the scheduler-thread dispatcher of a one-process fleet, the rest of FleetSim's
/// actors on the thread pool.
/// </summary>
public sealed class ClusterDispatcherTests
{
    private static Config Composed()
    {
        var builder = new AkkaConfigurationBuilder(new ServiceCollection(), ClusterHosting.SystemName);
        builder.WithFleetSimCluster(DeviceShards.Role, ClusterEndpoint.Loopback, []);
        return builder.Configuration.Value;
    }

    [Fact]
    public void The_composed_configuration_names_the_dedicated_dispatcher_for_remoting_cluster_sharding_and_ddata()
    {
        var config = Composed();

        foreach (var key in new[]
                 {
                     "akka.remote.use-dispatcher", "akka.cluster.use-dispatcher", "akka.cluster.sharding.use-dispatcher",
                     "akka.cluster.sharding.distributed-data.use-dispatcher", "akka.cluster.distributed-data.use-dispatcher",
                 })
            Assert.True(config.GetString(key) == ClusterDispatchers.Cluster, $"{key} = {config.GetString(key)}");
        Assert.Equal("fork-join-executor", config.GetString(ClusterDispatchers.Cluster + ".executor"));
        Assert.Equal(ClusterDispatchers.ClusterThreads, config.GetInt(ClusterDispatchers.Cluster + ".dedicated-thread-pool.thread-count"));
        Assert.Equal("default-executor", config.GetString(ClusterDispatchers.Work + ".executor"));
        Assert.Equal(ClusterDispatchers.Work, config.GetString("akka.loggers-dispatcher"));
    }

    [Fact]
    public async Task In_a_running_cluster_akka_s_actors_have_their_own_threads_and_devices_run_as_in_a_one_process_fleet()
    {
        await using var cluster = await InProcessCluster.StartAsync(workers: 1);
        cluster.Start(0, 1);
        var worker = cluster.WorkerSystems[0];

        // A device entity and its device: the thread pool, and the dispatcher a one-process fleet's devices use.
        var id = cluster.Plan.Groups[0].DeviceId(0);
        var entityPath = $"/system/sharding/{DeviceShards.TypeName}/{DeviceShards.Instance.ShardOf(id)}/{Uri.EscapeDataString(id)}";
        Assert.Equal(ClusterDispatchers.Work, DispatcherOf(await ResolveAsync(worker, entityPath)));
        Assert.Equal(SchedulerThreadDispatcher.Id, DispatcherOf(await ResolveAsync(worker, entityPath + "/device")));

        // Every actor of Akka's cluster (daemon, heartbeat sender and receiver, gossip, downing), remoting and sharding, on
        // both kinds of member: the cluster's dispatcher (below the shards, FleetSim's entities and devices: checked above).
        foreach (var system in new[] { cluster.CoordinatorSystem, worker })
        {
            var found = new List<(string Path, string Dispatcher)>();
            foreach (var root in new[] { "/system/cluster", "/system/endpointManager", "/system/sharding" })
                Walk(await ResolveAsync(system, root), found);
            Assert.Contains(found, a => a.Path.EndsWith("/system/cluster/heartbeatReceiver", StringComparison.Ordinal));
            Assert.Contains(found, a => a.Path.EndsWith("/heartbeatSender", StringComparison.Ordinal));
            Assert.Contains(found, a => a.Path.Contains("/system/endpointManager/", StringComparison.Ordinal));
            var elsewhere = found.Where(static a => a.Dispatcher != ClusterDispatchers.Cluster).ToList();
            Assert.True(elsewhere.Count == 0, "not on the cluster's dispatcher: " + string.Join(", ", elsewhere));
        }

        // That dispatcher has threads of its own; FleetSim's actors under /user run on the thread pool.
        var system0 = (ExtendedActorSystem)worker;
        var own = system0.SystemActorOf(Props.Create<WhereAmI>().WithDispatcher(ClusterDispatchers.Cluster), "where-cluster");
        Assert.False(await own.Ask<bool>(WhereAmI.Ask.Instance, TimeSpan.FromSeconds(10)), "the cluster's dispatcher ran on a thread-pool thread");
        var user = worker.ActorOf(Props.Create<WhereAmI>(), "where-user");
        Assert.True(await user.Ask<bool>(WhereAmI.Ask.Instance, TimeSpan.FromSeconds(10)), "a /user actor ran off the thread pool");
        Assert.Equal(ClusterDispatchers.Work, DispatcherOf(user)); // (started by now: it answered)
    }

    private static string DispatcherOf(IActorRef actor) => actor is ActorRefWithCell { Underlying: ActorCell cell } ? cell.Dispatcher.Id : $"(no cell: {actor.GetType().Name})";

    /// <summary>The actor and its descendants, down to the device shards (not their entities).</summary>
    private static void Walk(IActorRef actor, List<(string, string)> found)
    {
        var path = actor.Path.ToStringWithoutAddress();
        found.Add((path, DispatcherOf(actor)));
        if (path.StartsWith($"/system/sharding/{DeviceShards.TypeName}/", StringComparison.Ordinal))
            return;
        if (actor is ActorRefWithCell { Underlying: ActorCell cell })
        {
            foreach (var child in cell.GetChildren())
                Walk(child, found);
        }
    }

    private static async Task<IActorRef> ResolveAsync(ActorSystem system, string path)
    {
        IActorRef? found = null;
        await InProcessCluster.Eventually(async () =>
        {
            try
            {
                found = await system.ActorSelection(path).ResolveOne(TimeSpan.FromSeconds(5));
                return found is ActorRefWithCell { Underlying: ActorCell };
            }
            catch (ActorNotFoundException)
            {
                return false;
            }
        }, path + " exists");
        return found!;
    }

    /// <summary>Answers whether it ran on a thread-pool thread.</summary>
    private sealed class WhereAmI : ReceiveActor
    {
        public WhereAmI() => Receive<Ask>(_ => Sender.Tell(Thread.CurrentThread.IsThreadPoolThread));

        public sealed record Ask
        {
            public static Ask Instance { get; } = new();
        }
    }
}
