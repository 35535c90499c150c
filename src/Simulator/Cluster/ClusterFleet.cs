using System.Net;
using Akka.Actor;
using Akka.Hosting;
using FleetSim.Cluster.Coordinator;
using FleetSim.Cluster.Hosting;
using FleetSim.Cluster.Protocol;
using FleetSim.Cluster.Worker;
using FleetSim.Metrics;
using FleetSim.Reporting;
using FleetSim.Scenarios.Load;
using FleetSim.Scenarios.Running;
using FleetSim.Scenarios.Service;
using FleetSim.Simulator.Run;

namespace FleetSim.Simulator.Cluster;

/// <summary>
/// What a run over worker processes (<c>fleetsim run --nodes N</c>) adds to a run: the coordinator's cluster
/// membership and shard region proxy, the <see cref="FleetCoordinator"/> behind a <see cref="ShardedFleetDriver"/>, the
/// local worker processes (or, with <c>--wait-workers</c>, workers started elsewhere), and the node events for the report.
/// Disposing stops every worker it started.
/// </summary>
public sealed class ClusterFleet(int nodes, ClusterSetup? setup = null) : IAsyncDisposable
{
    /// <summary>
    /// Local workers are up within seconds on a quiet machine, but a starved one took longer than 2 minutes to join two
    /// (bench/SCALE.md, attempt 4: load average 67-84); external ones may wait for a scheduler, an image pull or a person.
    /// </summary>
    private readonly TimeSpan _joinTimeout = setup is null ? TimeSpan.FromMinutes(5) : TimeSpan.FromMinutes(10);
    private LocalWorkers? _workers;
    private BootstrapEndpoint? _bootstrap;
    private IActorRef _coordinator = ActorRefs.Nobody;
    private IActorRef _region = ActorRefs.Nobody;

    /// <summary>Workers the run waits for: the local ones it starts, or the external ones of --wait-workers.</summary>
    public int Nodes { get; } = setup?.ExternalWorkers ?? nodes;

    /// <summary>What happened to nodes during the run (filled at its end).</summary>
    public IReadOnlyList<NodeEvent> Events { get; private set; } = [];

    /// <summary>
    /// The coordinator's member: remoting (loopback on any free port, or the --cluster-* endpoint), clustering, the device
    /// shard region proxy.
    /// </summary>
    public void Configure(AkkaConfigurationBuilder akka)
    {
        akka.WithFleetSimCluster(DeviceShards.CoordinatorRole, setup?.Endpoint ?? ClusterEndpoint.Loopback, []);
        akka.WithDeviceShardProxy();
    }

    public IFleetDriver CreateDriver(ActorSystem system, IActorRegistry registry, RunRequest request, FleetPlan plan, DeviceEndpoint endpoint,
        HubServiceClient service, FleetMetrics metrics, DateTimeOffset start)
    {
        var scenario = request.Scenario;
        var runPlan = new RunPlan(
            request.RunId, // the workers' devices send it with their telemetry, as a one-process run's do
            File.ReadAllText(request.ScenarioPath), // the worker derives the fleet from the same text (not the redacted copy)
            request.ScenarioPath,
            [.. request.Overrides],
            request.Scale ?? 0,
            scenario.Seed,
            endpoint.HostName,
            endpoint.MqttHost,
            endpoint.MqttPort,
            endpoint.HttpsPort,
            endpoint.TrustedCa?.ExportCertificatePem(),
            [.. endpoint.Partitions.Select(static p => new PlanPartition(p.MqttHost, p.MqttPort, p.HttpsPort))],
            SourceAddresses(endpoint, scenario.TotalDevices),
            ActorRefs.Nobody);
        var sizes = scenario.DeviceGroups.Select(static g => g.Count).ToArray();
        _region = registry.Get<DeviceEntity>();
        _coordinator = system.ActorOf(FleetCoordinator.Props(runPlan, plan, sizes, _region, metrics,
            ids => ResumePositionsAsync(service, request.RunId, ids), start), FleetCoordinator.Name);
        return new ShardedFleetDriver(_coordinator);
    }

    /// <summary>
    /// Loopback source addresses for the workers' connections when the hub is on this machine: one per 20,000 devices
    /// (each source address has ~28k ephemeral ports towards one destination), from 127.0.1.1 on.
    /// </summary>
    public static string[] SourceAddresses(DeviceEndpoint endpoint, int devices)
    {
        var hosts = endpoint.Partitions.Count > 0 ? endpoint.Partitions.Select(static p => p.MqttHost) : [endpoint.MqttHost];
        if (!hosts.All(static h => IPAddress.TryParse(h, out var a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && IPAddress.IsLoopback(a)))
            return [];
        var count = Math.Max(1, (devices + 19_999) / 20_000);
        return [.. Enumerable.Range(0, count).Select(static i => $"127.0.{1 + (i / 250)}.{1 + (i % 250)}")];
    }

    /// <summary>
    /// When the coordinator reports every worker lost mid-run (<see cref="FleetCoordinator.AllWorkersLost"/>), the run is
    /// aborted with that reason (exit 3) instead of running on without devices and passing its thresholds.
    /// </summary>
    public static void AbortRunWhenAllWorkersLost(ActorSystem system, IActorRef runner)
    {
        var forwarder = system.ActorOf(Props.Create(() => new AllWorkersLostForwarder(runner)), "all-workers-lost");
        system.EventStream.Subscribe(forwarder, typeof(FleetCoordinator.AllWorkersLost));
    }

    private sealed class AllWorkersLostForwarder : ReceiveActor
    {
        public AllWorkersLostForwarder(IActorRef runner) =>
            Receive<FleetCoordinator.AllWorkersLost>(lost => runner.Tell(new ScenarioRunner.Abort(lost.Reason)));
    }

    /// <summary>Joins the cluster (the coordinator is its first member), starts the workers and waits until all accepted the plan.</summary>
    public async Task StartWorkersAsync(ActorSystem system, TextWriter output, CancellationToken cancel)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        await cluster.JoinAsync(cluster.SelfAddress, cancel);
        var seed = $"{cluster.SelfAddress.Host}:{cluster.SelfAddress.Port}";
        if (setup is null)
        {
            output.WriteLine($"starting {Nodes} worker process{(Nodes == 1 ? "" : "es")} (fleetsim node --seed {seed}) ...");
            _workers = LocalWorkers.Start(Nodes, seed, Console.Error);
        }
        else
        {
            // With --discovery kubernetes, bootstrapping workers probe this contact point for the members to join.
            if (setup.Formation is { } formation)
                _bootstrap = await BootstrapEndpoint.StartAsync(system, setup.Endpoint.BindHost, formation.ManagementPort);
            var how = _bootstrap is not null
                ? $"fleetsim node --discovery kubernetes (contact point http://{setup.Endpoint.PublicHost}:{_bootstrap.Port}{BootstrapEndpoint.SeedNodesPath}), or fleetsim node --seed {seed}"
                : $"fleetsim node --seed {seed}";
            output.WriteLine($"waiting for {Nodes} worker{(Nodes == 1 ? "" : "s")} started elsewhere ({how}), at most {_joinTimeout.TotalMinutes:0} min ...");
        }

        object answer;
        try
        {
            answer = await _coordinator.Ask<object>(new FleetCoordinator.WaitForNodes(Nodes), _joinTimeout, cancel);
        }
        catch (AskTimeoutException)
        {
            throw new TimeoutException(_workers is null
                ? $"the {Nodes} external workers did not all join within {_joinTimeout.TotalSeconds:0} s"
                : $"the {Nodes} worker processes did not all join within {_joinTimeout.TotalSeconds:0} s ({_workers.Exited} exited)");
        }

        if (answer is FleetCoordinator.NodesFailed failed)
            throw new InvalidOperationException(failed.Reason);
        await WaitForRegionsAsync(cancel);
        output.WriteLine($"workers ready: {string.Join(", ", ((FleetCoordinator.NodesReady)answer).Nodes)}");
    }

    /// <summary>
    /// Until the sharding coordinator knows every worker's shard region, so the first devices spread over all of them
    /// (a region registered late would get shards only by rebalancing, which moves running devices).
    /// </summary>
    private async Task WaitForRegionsAsync(CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + _joinTimeout;
        while (true)
        {
            var known = 0;
            try
            {
                known = (await _region.Ask<Akka.Cluster.Sharding.CurrentRegions>(Akka.Cluster.Sharding.GetCurrentRegions.Instance, TimeSpan.FromSeconds(10), cancel)).Regions.Count;
            }
            catch (AskTimeoutException)
            {
                // the sharding coordinator is still starting: ask again
            }

            if (known >= Nodes)
                return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the sharding coordinator knows {known} of {Nodes} worker regions after {_joinTimeout.TotalSeconds:0} s");
            await Task.Delay(200, cancel);
        }
    }

    public async Task CollectEventsAsync()
    {
        if (_coordinator.IsNobody())
            return;
        try
        {
            Events = (await _coordinator.Ask<FleetCoordinator.NodeEvents>(FleetCoordinator.GetNodeEvents.Instance, TimeSpan.FromSeconds(10))).Events;
        }
        catch (AskTimeoutException)
        {
            Events = []; // the report still comes, without node events
        }
    }

    /// <summary>
    /// The run has ended (its report data is in): from here on the workers' own shutdown (they find the coordinator gone,
    /// hand their shards over, time out a shutdown phase) is expected and not shown on the console; a worker that failed
    /// during the run was reported before this. Their exit codes are still checked once they are gone (disposing): a worker
    /// that exited non-zero, or had to be killed, gets one line on stderr (<see cref="LocalWorkers"/>).
    /// </summary>
    public void RunEnded() => _workers?.Silence();

    /// <summary>The last telemetry number the hub saw from each device (emulator extension; 0 where it cannot say).</summary>
    private static async Task<IReadOnlyDictionary<string, long>> ResumePositionsAsync(HubServiceClient service, string runId, IReadOnlyList<string> ids)
    {
        var positions = new System.Collections.Concurrent.ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = Registration.Concurrency }, async (id, ct) =>
        {
            try
            {
                var last = await service.GetJsonAsync($"fleetsim/devices/{Uri.EscapeDataString(id)}/telemetry/last", ct);
                // Only a message of this run continues a sequence: a device id re-used from an earlier run starts at 1.
                if (last["properties"] is { } properties
                    && properties[FleetSim.Protocol.FleetSimProperties.Run]?.GetValue<string>() == runId
                    && properties[FleetSim.Protocol.FleetSimProperties.Sequence]?.GetValue<string>() is { } text && long.TryParse(text, out var sequence))
                    positions[id] = sequence;
            }
            catch (Exception e) when (e is HubServiceException or HttpRequestException or System.Text.Json.JsonException or InvalidOperationException or FormatException)
            {
                // a real hub, or a device that never sent: it starts its numbering afresh
            }
        });
        return positions;
    }

    public async ValueTask DisposeAsync()
    {
        if (_bootstrap is not null)
            await _bootstrap.DisposeAsync();
        if (_workers is not null)
            await _workers.DisposeAsync();
    }
}
