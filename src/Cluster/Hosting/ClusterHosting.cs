using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Remote.Hosting;
using FleetSim.Cluster.Protocol;
using FleetSim.Cluster.Worker;

namespace FleetSim.Cluster.Hosting;

/// <summary>
/// The Akka.Hosting composition of a FleetSim cluster, in one place for the coordinator, the workers and the tests:
/// remoting, clustering with a split brain resolver that removes a killed node quickly (keep-oldest: the coordinator
/// starts first, so it is the oldest member), Akka's own actors on threads of their own (<see cref="ClusterDispatchers"/>),
/// the serializer of every message that crosses processes, and the device shard region (workers) or its proxy (coordinator).
/// </summary>
public static class ClusterHosting
{
    /// <summary>Every node's actor system has this name (it is part of every remote address).</summary>
    public const string SystemName = "fleetsim";

    /// <summary>
    /// Failure detection and downing. A member is unreachable after the heartbeat pause (20 s, not Akka's 3 s), then downed
    /// once the membership was stable for stable-after: a killed worker about 25 s after. It was 5 s until the first
    /// 30,000-device attempt on this 2-core machine with other work on it (bench/SCALE.md): at load average 77 living
    /// workers' heartbeats came 5.5 s apart and every worker was downed. 20 s survives that (and the 13.7-14.6 s gaps at
    /// load 90), not the 24-86 s gaps at load 100 and more; a longer pause would keep a killed worker's devices waiting as
    /// long (downing its member when its process exits does not help: Akka removes a downed member only once the failure
    /// detector finds it unreachable, tried). The workers give up joining after a minute. Rebalancing moves shards towards
    /// a node that joins mid-run (their devices are handed off cleanly and started again there by the coordinator).
    /// </summary>
    public const string Timing = """
        akka.cluster {
          failure-detector.acceptable-heartbeat-pause = 20s
          split-brain-resolver {
            stable-after = 4s
            down-all-when-unstable = off
          }
          shutdown-after-unsuccessful-join-seed-nodes = 60s
          log-info = off
          sharding {
            rebalance-interval = 10s
            least-shard-allocation-strategy.rebalance-absolute-limit = 10
            least-shard-allocation-strategy.rebalance-relative-limit = 0.1
          }
        }
        akka.remote.dot-netty.tcp.maximum-frame-size = 4 MiB
        """;

    /// <summary>Remoting, clustering with the given role, the split brain resolver and the cluster serializer.</summary>
    /// <param name="seeds">Seed addresses as HOST:PORT; empty for the coordinator, which joins itself once it listens.</param>
    public static AkkaConfigurationBuilder WithFleetSimCluster(this AkkaConfigurationBuilder akka, string role, string host, int port, IReadOnlyList<string> seeds) =>
        akka.WithFleetSimCluster(role, new ClusterEndpoint(host, host, port), seeds);

    /// <summary>Remoting on the endpoint (listening on its bind host, reached at its public host), clustering, the resolver and the serializer.</summary>
    /// <param name="seeds">Seed addresses as HOST:PORT; empty for the coordinator (it joins itself) and for a worker formed by discovery.</param>
    public static AkkaConfigurationBuilder WithFleetSimCluster(this AkkaConfigurationBuilder akka, string role, ClusterEndpoint endpoint, IReadOnlyList<string> seeds)
    {
        akka.AddHocon(ClusterSerializer.Hocon, HoconAddMode.Prepend);
        akka.AddHocon(ClusterDispatchers.Hocon, HoconAddMode.Prepend);
        akka.AddHocon(Timing, HoconAddMode.Prepend);
        akka.WithRemoting(new RemoteOptions
        {
            HostName = endpoint.BindHost,
            PublicHostName = endpoint.PublicHost,
            Port = endpoint.Port,
            MaxFrameSize = 4 * 1024 * 1024,
        });
        akka.WithClustering(new ClusterOptions
        {
            Roles = [role],
            SeedNodes = [.. seeds.Select(static s => $"akka.tcp://{SystemName}@{s}")],
            // Keep-oldest without down-if-alone: workers cut off from the coordinator (the oldest) down themselves and exit.
            SplitBrainResolver = new KeepOldestOption { DownIfAlone = false },
        });
        return akka;
    }

    /// <summary>A worker: hosts the device shard region (ddata state store, no remember-entities: see docs/architecture.md).</summary>
    public static AkkaConfigurationBuilder WithDeviceShards(this AkkaConfigurationBuilder akka, WorkerRuntime runtime) =>
        akka.WithShardRegion<DeviceEntity>(DeviceShards.TypeName, id => DeviceEntity.Props(id, runtime), DeviceShards.Instance,
            new ShardOptions
            {
                Role = DeviceShards.Role,
                StateStoreMode = StateStoreMode.DData,
                RememberEntities = false,
                HandOffStopMessage = DeviceEntity.HandOff.Instance,
                ShouldPassivateIdleEntities = false,
            });

    /// <summary>The coordinator: a proxy of the device shard region (it hosts no devices).</summary>
    public static AkkaConfigurationBuilder WithDeviceShardProxy(this AkkaConfigurationBuilder akka) =>
        akka.WithShardRegionProxy<DeviceEntity>(DeviceShards.TypeName, DeviceShards.Role, DeviceShards.Instance);

    /// <summary>The worker node actor, named so the coordinator finds it at every member's address.</summary>
    public static AkkaConfigurationBuilder WithWorkerNode(this AkkaConfigurationBuilder akka, WorkerRuntime runtime) =>
        akka.WithActors((system, _) =>
        {
            var self = Akka.Cluster.Cluster.Get(system).SelfAddress;
            system.ActorOf(WorkerNode.Props(runtime, $"{self.Host}:{self.Port}"), WorkerNode.Name);
        });
}
