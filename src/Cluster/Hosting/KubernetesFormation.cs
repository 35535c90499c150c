using Akka.Discovery.KubernetesApi;
using Akka.Hosting;
using Akka.Management;
using Akka.Management.Cluster.Bootstrap;

namespace FleetSim.Cluster.Hosting;

/// <summary>
/// Cluster formation on Kubernetes without a seed address (<c>--discovery kubernetes</c>), through Akka.Management cluster
/// bootstrap and the Kubernetes API discovery. The coordinator forms the cluster (it joins itself, as in every run, so it
/// stays the oldest member the split brain resolver keeps) and serves the Akka.Management HTTP endpoint, whose
/// <c>/bootstrap/seed-nodes</c> route tells a prober who the members are. A worker lists the pods that match
/// <see cref="LabelSelector"/> (the coordinator's) through the Kubernetes API, probes their management endpoints and joins
/// the cluster they report. Workers never form a cluster of their own (<c>new-cluster-enabled = off</c>): they wait for a
/// coordinator, so a worker Deployment can stand ready between runs.
/// </summary>
/// <param name="LabelSelector">Kubernetes label selector of the coordinator's pod.</param>
/// <param name="Namespace">Namespace to list pods in; null: the pod's own (from its service account).</param>
/// <param name="ManagementPort">Port of the Akka.Management HTTP endpoint (the contact point) on every member.</param>
public sealed record KubernetesFormation(string LabelSelector, string? Namespace, int ManagementPort)
{
    public const string DefaultLabelSelector = "app.kubernetes.io/name=fleetsim,app.kubernetes.io/component=coordinator";
    public const int DefaultManagementPort = 8558;

    /// <summary>Bootstrap's service name: informational here, since the label selector names the pods itself.</summary>
    public const string ServiceName = "fleetsim-coordinator";

    /// <summary>The management HTTP endpoint: listens on the member's bind host, advertised at its public host.</summary>
    public AkkaManagementOptions Management(ClusterEndpoint endpoint) => new()
    {
        HostName = endpoint.PublicHost,
        Port = ManagementPort,
        BindHostName = endpoint.BindHost,
        BindPort = ManagementPort,
    };

    /// <summary>
    /// A worker's bootstrap: one contact point is enough (the coordinator), probed on the management port, and never a
    /// new cluster. The pod list is re-read every second and a contact point probed every 2 s, so a worker joins within
    /// seconds of the coordinator's start.
    /// </summary>
    public ClusterBootstrapOptions Bootstrap()
    {
        var options = new ClusterBootstrapOptions { NewClusterEnabled = false };
        options.ContactPointDiscovery.ServiceName = ServiceName;
        options.ContactPointDiscovery.RequiredContactPointsNr = 1;
        options.ContactPointDiscovery.StableMargin = TimeSpan.FromSeconds(2);
        options.ContactPointDiscovery.Interval = TimeSpan.FromSeconds(1);
        options.ContactPoint.FallbackPort = ManagementPort;
        options.ContactPoint.ProbeInterval = TimeSpan.FromSeconds(2);
        return options;
    }

    /// <summary>Kubernetes API discovery of the coordinator's pod (by label, raw pod IPs).</summary>
    public KubernetesDiscoveryOptions Discovery() => new()
    {
        PodLabelSelector = LabelSelector,
        PodNamespace = Namespace,
        RawIp = true,
    };
}

public static class KubernetesFormationHosting
{
    /// <summary>A worker: discovery, bootstrap and the management endpoint bootstrap needs, all started with the system.</summary>
    public static AkkaConfigurationBuilder WithKubernetesWorkerFormation(this AkkaConfigurationBuilder akka, KubernetesFormation formation, ClusterEndpoint endpoint)
    {
        akka.WithAkkaManagement(formation.Management(endpoint));
        akka.WithKubernetesDiscovery(formation.Discovery());
        akka.WithClusterBootstrap(formation.Bootstrap(), autoStart: true);
        return akka;
    }

    /// <summary>The coordinator: the management endpoint (with the bootstrap route) started with the system; it joins itself.</summary>
    public static AkkaConfigurationBuilder WithKubernetesCoordinatorFormation(this AkkaConfigurationBuilder akka, KubernetesFormation formation, ClusterEndpoint endpoint) =>
        akka.WithAkkaManagement(formation.Management(endpoint), autoStart: true);
}
