using Akka.Actor;
using Akka.Discovery.KubernetesApi;
using Akka.Event;
using Akka.Hosting;
using Akka.Management.Cluster.Bootstrap;
using Akka.Management.Dsl;

namespace FleetSim.Cluster.Hosting;

/// <summary>
/// Cluster formation on Kubernetes without a seed address (<c>--discovery kubernetes</c>), through Akka.Management cluster
/// bootstrap and the Kubernetes API discovery. The coordinator forms the cluster (it joins itself, as in every run, so it
/// stays the oldest member the split brain resolver keeps) and serves the contact point route
/// <c>/bootstrap/seed-nodes</c> (<see cref="BootstrapEndpoint"/>), which tells a prober who the members are. A worker lists the pods that match
/// <see cref="LabelSelector"/> (the coordinator's) through the Kubernetes API, probes their management endpoints and joins
/// the cluster they report. Workers never form a cluster of their own (<c>new-cluster-enabled = off</c>): they wait for a
/// coordinator, so a worker Deployment can stand ready between runs.
/// </summary>
/// <param name="LabelSelector">Kubernetes label selector of the coordinator's pod.</param>
/// <param name="Namespace">Namespace to list pods in; null: the pod's own (from its service account).</param>
/// <param name="ManagementPort">Port of the coordinator's contact point (<see cref="BootstrapEndpoint"/>), which workers probe.</param>
public sealed record KubernetesFormation(string LabelSelector, string? Namespace, int ManagementPort)
{
    public const string DefaultLabelSelector = "app.kubernetes.io/name=fleetsim,app.kubernetes.io/component=coordinator";
    public const int DefaultManagementPort = 8558;

    /// <summary>Bootstrap's service name: informational here, since the label selector names the pods itself.</summary>
    public const string ServiceName = "fleetsim-coordinator";

    /// <summary>This member's own contact point URI, which bootstrap needs before it starts (its join decider compares it).</summary>
    public Uri SelfContactPoint(ClusterEndpoint endpoint) => new UriBuilder("http", endpoint.PublicHost, ManagementPort).Uri;

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
    /// <summary>A worker: Kubernetes API discovery and cluster bootstrap, started with the system.</summary>
    public static AkkaConfigurationBuilder WithKubernetesWorkerFormation(this AkkaConfigurationBuilder akka, KubernetesFormation formation, ClusterEndpoint endpoint)
    {
        akka.WithKubernetesDiscovery(formation.Discovery());
        return akka.WithWorkerBootstrap(formation, endpoint);
    }

    /// <summary>
    /// Cluster bootstrap (contact points from the configured discovery), started once the system runs. Bootstrap is started
    /// here rather than through Akka.Management's auto start, which first starts Akka.Management's HTTP server: that server
    /// cannot start with the Ceen.Httpd served here (see <see cref="BootstrapEndpoint"/>), and a worker serves no contact
    /// point anyway (only the coordinator is probed). Bootstrap needs its own contact point before it starts: handing it the
    /// route settings sets it, as Akka.Management would when it binds the routes.
    /// </summary>
    public static AkkaConfigurationBuilder WithWorkerBootstrap(this AkkaConfigurationBuilder akka, KubernetesFormation formation, ClusterEndpoint endpoint)
    {
        akka.WithClusterBootstrap(formation.Bootstrap(), autoStart: false);
        akka.AddStartup((system, _) =>
        {
            var bootstrap = ClusterBootstrap.Get(system);
            bootstrap.Routes(ManagementRouteProviderSettings.Create(formation.SelfContactPoint(endpoint), readOnly: true));
            bootstrap.Start().ContinueWith(t =>
            {
                if (t.Exception is { } e)
                    system.Log.Error(e.GetBaseException(), "cluster bootstrap did not start: {0}", e.GetBaseException().Message);
            }, TaskScheduler.Default);
        });
        return akka;
    }
}
