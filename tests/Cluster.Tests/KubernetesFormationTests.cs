using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Management.Cluster.Bootstrap.ContactPoint;
using FleetSim.Cluster.Hosting;
using FleetSim.Cluster.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FleetSim.Cluster.Tests;

/// <summary>
/// Kubernetes formation cannot run here (no API server): these tests check the configuration it composes, which is what
/// Akka.Management cluster bootstrap and Akka.Discovery.KubernetesApi read at start.
/// </summary>
public sealed class KubernetesFormationTests
{
    private static readonly ClusterEndpoint PodEndpoint = new("0.0.0.0", "10.1.2.3", 4053);

    private static Config Compose(Action<AkkaConfigurationBuilder> configure)
    {
        var builder = new AkkaConfigurationBuilder(new ServiceCollection(), ClusterHosting.SystemName);
        configure(builder);
        return builder.Configuration.Value;
    }

    [Fact]
    public void A_worker_finds_the_coordinator_pod_through_the_kubernetes_api_and_never_forms_a_cluster_alone()
    {
        var formation = new KubernetesFormation("app.kubernetes.io/name=fleetsim,app.kubernetes.io/component=coordinator", "load", 8558);
        var config = Compose(akka =>
        {
            akka.WithFleetSimCluster(DeviceShards.Role, PodEndpoint, []);
            akka.WithKubernetesWorkerFormation(formation, PodEndpoint);
        });

        // Discovery: the Kubernetes API plugin is the default method, listing pods by the coordinator's labels.
        Assert.Equal("kubernetes-api", config.GetString("akka.discovery.method"));
        Assert.Equal("Akka.Discovery.KubernetesApi.KubernetesApiServiceDiscovery, Akka.Discovery.KubernetesApi",
            config.GetString("akka.discovery.kubernetes-api.class").Split(", Version")[0]);
        Assert.Equal(formation.LabelSelector, config.GetString("akka.discovery.kubernetes-api.pod-label-selector"));
        Assert.Equal("load", config.GetString("akka.discovery.kubernetes-api.pod-namespace"));
        Assert.True(config.GetBoolean("akka.discovery.kubernetes-api.use-raw-ip"));

        // Bootstrap: one contact point (the coordinator), probed on the management port; never a new cluster.
        Assert.False(config.GetBoolean("akka.management.cluster.bootstrap.new-cluster-enabled"));
        Assert.Equal(1, config.GetInt("akka.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr"));
        Assert.Equal("akka.discovery", config.GetString("akka.management.cluster.bootstrap.contact-point-discovery.discovery-method"));
        Assert.Equal(8558, config.GetInt("akka.management.cluster.bootstrap.contact-point.fallback-port"));

        // Remoting listens on all interfaces and is advertised at the pod's address; no seed nodes (bootstrap finds them).
        Assert.Equal(new Uri("http://10.1.2.3:8558/"), formation.SelfContactPoint(PodEndpoint));
        Assert.Equal("10.1.2.3", config.GetString("akka.remote.dot-netty.tcp.public-hostname"));
        Assert.Equal("0.0.0.0", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(4053, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Empty(config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Contains(DeviceShards.Role, config.GetStringList("akka.cluster.roles"));
    }

    [Fact]
    public void Without_a_namespace_a_worker_looks_in_its_own_pods_namespace()
    {
        var config = Compose(akka => akka.WithKubernetesWorkerFormation(
            new KubernetesFormation(KubernetesFormation.DefaultLabelSelector, null, KubernetesFormation.DefaultManagementPort), PodEndpoint));

        Assert.Equal("<pod-namespace>", config.GetString("akka.discovery.kubernetes-api.pod-namespace")); // the plugin then reads the service account's
        Assert.Equal("/var/run/secrets/kubernetes.io/serviceaccount/namespace", config.GetString("akka.discovery.kubernetes-api.pod-namespace-path"));
        Assert.Equal(KubernetesFormation.DefaultLabelSelector, config.GetString("akka.discovery.kubernetes-api.pod-label-selector"));
    }

    /// <summary>
    /// The whole bootstrap but the Kubernetes API call: a worker composed as on Kubernetes, with its contact points from
    /// Akka's config discovery instead (the coordinator at 127.0.0.1), probes the coordinator's real contact point
    /// (BootstrapEndpoint over HTTP) and joins its cluster.
    /// </summary>
    [Fact]
    public async Task A_bootstrapping_worker_joins_the_coordinator_through_its_contact_point()
    {
        using var coordinator = await StartHostAsync(akka => akka.WithFleetSimCluster(DeviceShards.CoordinatorRole, ClusterEndpoint.Loopback, []));
        var coordinatorSystem = coordinator.Services.GetRequiredService<ActorSystem>();
        var coordinatorCluster = Akka.Cluster.Cluster.Get(coordinatorSystem);
        await coordinatorCluster.JoinAsync(coordinatorCluster.SelfAddress);
        await using var contactPoint = await BootstrapEndpoint.StartAsync(coordinatorSystem, "127.0.0.1", 0);

        // What a prober reads: the coordinator itself, in Akka.Management's own types and JSON.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) }; // generous: a loaded CI machine answers a loopback GET late
        var body = await http.GetStringAsync($"http://127.0.0.1:{contactPoint.Port}{BootstrapEndpoint.SeedNodesPath}");
        var seeds = Newtonsoft.Json.JsonConvert.DeserializeObject<HttpBootstrapJsonProtocol.SeedNodes>(body)!;
        Assert.Equal(coordinatorCluster.SelfAddress, seeds.SelfNode);
        Assert.Equal(coordinatorCluster.SelfAddress, Assert.Single(seeds.Nodes).Node);
        Assert.Contains(DeviceShards.CoordinatorRole, seeds.Nodes[0].Roles);

        var formation = new KubernetesFormation(KubernetesFormation.DefaultLabelSelector, null, contactPoint.Port);
        using var worker = await StartHostAsync(akka =>
        {
            akka.WithFleetSimCluster(DeviceShards.Role, ClusterEndpoint.Loopback, []);
            akka.AddHocon($$"""
                akka.discovery.method = config
                akka.discovery.config.services.{{KubernetesFormation.ServiceName}}.endpoints = ["127.0.0.1:{{contactPoint.Port}}"]
                """, HoconAddMode.Prepend);
            akka.WithWorkerBootstrap(formation, ClusterEndpoint.Loopback);
        });
        var workerCluster = Akka.Cluster.Cluster.Get(worker.Services.GetRequiredService<ActorSystem>());

        await InProcessCluster.Eventually(() => coordinatorCluster.State.Members.Count(static m => m.Status == MemberStatus.Up) >= 2,
            "the worker to join (two members up)");

        Assert.Contains(coordinatorCluster.State.Members, m => m.Address == workerCluster.SelfAddress && m.HasRole(DeviceShards.Role));
        await workerCluster.LeaveAsync();
    }

    private static async Task<IHost> StartHostAsync(Action<AkkaConfigurationBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddAkka(ClusterHosting.SystemName, configure);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    [Fact]
    public void Loopback_members_keep_listening_where_they_are_reached()
    {
        var config = Compose(akka => akka.WithFleetSimCluster(DeviceShards.Role, "127.0.0.1", 0, ["127.0.0.1:4053"]));

        Assert.Equal("127.0.0.1", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal("127.0.0.1", config.GetString("akka.remote.dot-netty.tcp.public-hostname"));
        Assert.Equal(["akka.tcp://fleetsim@127.0.0.1:4053"], config.GetStringList("akka.cluster.seed-nodes"));
    }

    [Fact]
    public void A_wildcard_bind_advertises_an_address_others_can_connect_to()
    {
        Assert.Equal("10.0.0.5", ClusterEndpoint.DefaultPublicHost("10.0.0.5"));
        Assert.NotEqual("0.0.0.0", ClusterEndpoint.DefaultPublicHost("0.0.0.0"));
        Assert.True(ClusterEndpoint.IsWildcard("0.0.0.0"));
        Assert.True(ClusterEndpoint.IsWildcard("::"));
        Assert.False(ClusterEndpoint.IsWildcard("coordinator"));
        Assert.True(ClusterEndpoint.IsLoopback("127.0.0.1"));
        Assert.True(ClusterEndpoint.IsLoopback("localhost"));
        Assert.False(ClusterEndpoint.IsLoopback("coordinator"));
    }
}
