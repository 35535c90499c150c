namespace FleetSim.Cluster.Hosting;

/// <summary>
/// Which threads run what in a cluster member. Akka's own actors (remoting's endpoints, the cluster daemon with gossip
/// and the failure detector's reaper, the heartbeat sender and receiver, the split brain resolver, sharding's regions,
/// shards and coordinator, the ddata replicator) run on two threads of their own; FleetSim's actors (devices, their
/// sharded entities, the node and coordinator actors, loggers) on the .NET thread pool, as in a one-process run.
/// Attempt 7 of bench/SCALE.md lost every worker because Akka's actors shared the thread pool with ~10,000 devices each:
/// at saturation a heartbeat waited 14-19 s in the pool's queue behind device work.
/// <para>
/// Akka.NET 1.5's settings alone do not get there: <c>akka.cluster.use-dispatcher</c> moves the heartbeat sender, the
/// join processes and the read view, but the cluster daemon (/system/cluster, its core daemon and the heartbeat receiver
/// that answers every other member's heartbeats) names no dispatcher and so runs on the default one. So the default
/// dispatcher is the one given dedicated threads, every setting that names a dispatcher points at it, and everything
/// under /user (and the loggers) is moved to <see cref="Work"/>, the thread pool. DotNetty's socket I/O already runs on
/// threads of its own (akka.remote.dot-netty.tcp's server- and client-socket-worker-pool, 2 each).
/// </para>
/// </summary>
public static class ClusterDispatchers
{
    /// <summary>Akka's default dispatcher, here on <see cref="ClusterThreads"/> dedicated threads: the cluster's own.</summary>
    public const string Cluster = "akka.actor.default-dispatcher";

    /// <summary>The .NET thread pool, for FleetSim's actors (what the default dispatcher is in a one-process run).</summary>
    public const string Work = "fleetsim-work-dispatcher";

    /// <summary>
    /// Two, so a long message (a worker's metrics report being serialized, a shard routing a burst of starts) never holds
    /// a heartbeat back; cluster traffic is a few hundred messages per second at most, far from two threads' capacity.
    /// </summary>
    public const int ClusterThreads = 2;

    /// <summary>The configuration (every member composed by <see cref="ClusterHosting"/> gets it).</summary>
    public static readonly string Hocon = $$"""
        akka.actor.default-dispatcher {
          executor = fork-join-executor
          dedicated-thread-pool {
            thread-count = {{ClusterThreads}}
            threadtype = background
          }
        }
        {{Work}} {
          type = Dispatcher
          executor = default-executor
        }
        # Everything under /user: an explicit dispatcher in Props is overridden by this, so FleetSim actors that need
        # their own (devices) live outside /user (under their shard) in a cluster member.
        akka.actor.deployment {
          "/**" { dispatcher = "{{Work}}" }
        }
        akka.loggers-dispatcher = "{{Work}}"
        akka.remote.use-dispatcher = "{{Cluster}}"
        akka.cluster.use-dispatcher = "{{Cluster}}"
        akka.cluster.sharding.use-dispatcher = "{{Cluster}}"
        akka.cluster.sharding.distributed-data.use-dispatcher = "{{Cluster}}"
        akka.cluster.distributed-data.use-dispatcher = "{{Cluster}}"
        """;
}
