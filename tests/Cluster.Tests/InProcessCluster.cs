using Akka.Actor;
using Akka.Hosting;
using FleetSim.Bench;
using FleetSim.Cluster.Coordinator;
using FleetSim.Cluster.Hosting;
using FleetSim.Cluster.Protocol;
using FleetSim.Cluster.Worker;
using FleetSim.Metrics;
using FleetSim.Scenarios.Parsing;
using FleetSim.Scenarios.Running;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FleetSim.Cluster.Tests;

/// <summary>
/// A coordinator and worker nodes as separate actor systems joined on loopback inside the test process, composed
/// exactly as the fleetsim processes compose them (ClusterHosting), with devices on an instant transport.
/// </summary>
public sealed class InProcessCluster : IAsyncDisposable
{
    public const string ScenarioText = """
        name: protocol
        deviceGroups:
          - {name: a, count: 20, idPrefix: pa-, telemetry: {interval: 200ms}}
          - {name: b, count: 20, idPrefix: pb-, telemetry: {interval: 200ms}}
        duration: 60s
        """;

    private readonly List<IHost> _workers = [];
    private IHost _coordinatorHost = null!;
    private string? _workerHocon;

    public FleetMetrics Metrics { get; } = new();

    public FleetPlan Plan { get; private set; } = null!;

    public IActorRef Coordinator { get; private set; } = ActorRefs.Nobody;

    /// <summary>The coordinator's shard region proxy.</summary>
    public IActorRef Region { get; private set; } = ActorRefs.Nobody;

    public ShardedFleetDriver Driver => new(Coordinator);

    public ActorSystem CoordinatorSystem => _coordinatorHost.Services.GetRequiredService<ActorSystem>();

    public IReadOnlyList<ActorSystem> WorkerSystems => [.. _workers.Select(static w => w.Services.GetRequiredService<ActorSystem>())];

    /// <summary>Telemetry positions the fake hub reports for restarted devices.</summary>
    public long ResumePosition { get; init; } = 1000;

    /// <param name="coordinatorHocon">Configuration the coordinator gets on top of its composition (tests: shorter timings).</param>
    /// <param name="workerHocon">The same for every worker.</param>
    public static async Task<InProcessCluster> StartAsync(int workers, string? coordinatorHocon = null, string? workerHocon = null)
    {
        var cluster = new InProcessCluster { _workerHocon = workerHocon };
        await cluster.StartCoordinatorAsync(coordinatorHocon);
        var address = Akka.Cluster.Cluster.Get(cluster.CoordinatorSystem).SelfAddress;
        for (var i = 0; i < workers; i++)
            await cluster.StartWorkerAsync($"{address.Host}:{address.Port}");
        var ready = await cluster.Coordinator.Ask<object>(new FleetCoordinator.WaitForNodes(workers), TimeSpan.FromSeconds(60));
        Assert.IsType<FleetCoordinator.NodesReady>(ready);
        await Eventually(async () => (await cluster.Region.Ask<Akka.Cluster.Sharding.CurrentRegions>(Akka.Cluster.Sharding.GetCurrentRegions.Instance,
            TimeSpan.FromSeconds(10))).Regions.Count == workers, "every worker's shard region is known to the sharding coordinator");
        return cluster;
    }

    private async Task StartCoordinatorAsync(string? hocon)
    {
        var loaded = ScenarioLoader.LoadFromText(ScenarioText, "protocol.yaml");
        var scenario = loaded.Scenario ?? throw new InvalidOperationException(string.Join("; ", loaded.Errors));
        var credentials = scenario.DeviceGroups.Select(static g => new GroupCredentials([.. Enumerable.Repeat("c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ==", g.Count)], null)).ToArray();
        var endpoint = new DeviceEndpoint("hub.test", "127.0.0.1", 8883, 443, null);
        Plan = FleetPlanBuilder.Build(scenario, endpoint, credentials);
        var runPlan = new RunPlan("protocol", ScenarioText, "protocol.yaml", [], 0, scenario.Seed, "hub.test", "127.0.0.1", 8883, 443, null, [], [], ActorRefs.Nobody);
        var sizes = scenario.DeviceGroups.Select(static g => g.Count).ToArray();
        _coordinatorHost = await StartHostAsync(akka =>
        {
            akka.WithFleetSimCluster(DeviceShards.CoordinatorRole, "127.0.0.1", 0, []);
            if (hocon is not null)
                akka.AddHocon(hocon, HoconAddMode.Prepend);
            akka.WithDeviceShardProxy();
            akka.WithActors((system, registry) =>
            {
                Region = registry.Get<DeviceEntity>();
                Coordinator = system.ActorOf(FleetCoordinator.Props(runPlan, Plan, sizes, Region, Metrics,
                    ids => Task.FromResult<IReadOnlyDictionary<string, long>>(ids.ToDictionary(static id => id, _ => ResumePosition)), DateTimeOffset.UtcNow),
                    FleetCoordinator.Name);
            });
        });
        var cluster = Akka.Cluster.Cluster.Get(CoordinatorSystem);
        await cluster.JoinAsync(cluster.SelfAddress);
    }

    /// <summary>Another worker joins (also while devices run).</summary>
    public Task AddWorkerAsync()
    {
        var address = Akka.Cluster.Cluster.Get(CoordinatorSystem).SelfAddress;
        return StartWorkerAsync($"{address.Host}:{address.Port}");
    }

    private async Task StartWorkerAsync(string seed)
    {
        var runtime = new WorkerRuntime(new FleetMetrics(exportIntervals: true), new InstantTransportFactory());
        _workers.Add(await StartHostAsync(akka =>
        {
            akka.WithFleetSimCluster(DeviceShards.Role, "127.0.0.1", 0, [seed]);
            if (_workerHocon is not null)
                akka.AddHocon(_workerHocon, HoconAddMode.Prepend);
            akka.WithDeviceShards(runtime);
            akka.WithWorkerNode(runtime);
        }));
    }

    private static async Task<IHost> StartHostAsync(Action<AkkaConfigurationBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddAkka(ClusterHosting.SystemName, akka =>
        {
            akka.ConfigureLoggers(l => l.LogLevel = Akka.Event.LogLevel.WarningLevel);
            configure(akka);
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>The node name (host:port) of worker <paramref name="index"/>, as reports and the per-node metrics use it.</summary>
    public string NodeName(int index)
    {
        var a = Akka.Cluster.Cluster.Get(WorkerSystems[index]).SelfAddress;
        return $"{a.Host}:{a.Port}";
    }

    public void StartAll() => Start(0, 20);

    /// <summary>Starts devices <paramref name="from"/> to <paramref name="to"/> (exclusive) of both groups.</summary>
    public void Start(int from, int to)
    {
        for (var g = 0; g < Plan.Groups.Count; g++)
        {
            for (var i = from; i < to; i++)
                Driver.Start(g, i, DateTimeOffset.UtcNow);
        }
    }

    /// <summary>Polls until <paramref name="condition"/> holds, failing with <paramref name="what"/> at the deadline.</summary>
    public static Task Eventually(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        Eventually(() => Task.FromResult(condition()), what, timeout);

    public static async Task Eventually(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for: " + what);
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.StopAsync();
            worker.Dispose();
        }

        await _coordinatorHost.StopAsync();
        _coordinatorHost.Dispose();
    }
}
