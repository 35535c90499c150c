using System.Collections.Immutable;
using System.Net;
using Akka.Actor;
using Akka.Cluster;
using Akka.Management.Cluster.Bootstrap.ContactPoint;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FleetSim.Cluster.Hosting;

/// <summary>
/// The coordinator's contact point for Akka.Management cluster bootstrap: <c>GET /bootstrap/seed-nodes</c> answers, as
/// Akka.Management's own route does (same members, same JSON through the same types and serializer), with the reachable
/// members a bootstrapping worker should join. Served by Kestrel because Akka.Management's HTTP server does not start
/// here: Akka.Http.Shim 1.5.73 is built against Ceen.Httpd 0.9.9, and only 0.9.10 (whose ListenAsync differs) is served
/// (MissingMethodException at start; see docs/scaling.md).
/// </summary>
public sealed class BootstrapEndpoint : IAsyncDisposable
{
    public const string SeedNodesPath = "/bootstrap/seed-nodes";

    private readonly WebApplication _app;

    private BootstrapEndpoint(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    /// <summary>The port it listens on (the one asked for, or the one the OS picked for 0).</summary>
    public int Port { get; }

    public static async Task<BootstrapEndpoint> StartAsync(ActorSystem system, string bindHost, int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var address = IPAddress.TryParse(bindHost, out var parsed) ? parsed : IPAddress.Any;
        builder.WebHost.UseKestrel(k => k.Listen(address, port));
        var app = builder.Build();
        var cluster = Akka.Cluster.Cluster.Get(system);
        app.MapGet(SeedNodesPath, () => Results.Text(SeedNodesJson(cluster), "application/json"));
        await app.StartAsync();
        var bound = new Uri(app.Urls.First()).Port;
        return new BootstrapEndpoint(app, bound);
    }

    /// <summary>What Akka.Management's HttpClusterBootstrapRoutes answers: members up, weakly up or joining, and reachable.</summary>
    public static string SeedNodesJson(Akka.Cluster.Cluster cluster)
    {
        var self = cluster.SelfMember;
        if (self.Status is MemberStatus.Down or MemberStatus.Exiting or MemberStatus.Leaving or MemberStatus.Removed)
            return Newtonsoft.Json.JsonConvert.SerializeObject(new HttpBootstrapJsonProtocol.SeedNodes(self.UniqueAddress.Address, []));
        var state = cluster.State;
        var members = state.Members
            .Where(m => !state.Unreachable.Contains(m) && m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining)
            .Select(static m => new HttpBootstrapJsonProtocol.ClusterMember(m.UniqueAddress.Address, m.UniqueAddress.Uid, m.Status, m.Roles))
            .ToImmutableList();
        return Newtonsoft.Json.JsonConvert.SerializeObject(new HttpBootstrapJsonProtocol.SeedNodes(self.UniqueAddress.Address, members));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
