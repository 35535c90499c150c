using Akka.Actor;
using FleetSim.Cluster.Coordinator;
using FleetSim.Metrics;
using FleetSim.Reporting;
using FleetSim.Scenarios.Running;

namespace FleetSim.Cluster.Tests;

/// <summary>The coordinator and two workers in one test process: the protocol between them (issue 11).</summary>
public sealed class ClusterProtocolTests
{
    private static long Connected(InProcessCluster c) => c.Metrics.Gauge(Gauges.DevicesConnected).Value;

    private static long Hosted(InProcessCluster c, int worker) => c.Metrics.Gauge(NodeMetrics.DevicesHosted(c.NodeName(worker))).Value;

    private static long Sent(InProcessCluster c, int worker) => c.Metrics.Counter(NodeMetrics.TelemetrySent(c.NodeName(worker))).Value;

    [Fact]
    public async Task Sharded_starts_reach_device_entities_on_every_worker_and_stop_all_stops_them_with_every_count_merged()
    {
        await using var cluster = await InProcessCluster.StartAsync(workers: 2);
        cluster.StartAll();

        await InProcessCluster.Eventually(() => Connected(cluster) == 40, "40 devices connected over the workers");
        await InProcessCluster.Eventually(() => Hosted(cluster, 0) + Hosted(cluster, 1) == 40, "the workers report 40 devices");
        Assert.True(Hosted(cluster, 0) > 0 && Hosted(cluster, 1) > 0, "both workers host devices");
        await InProcessCluster.Eventually(() => Sent(cluster, 0) > 0 && Sent(cluster, 1) > 0, "both workers send telemetry");

        var stopped = await cluster.Coordinator.Ask<ScenarioRunner.FleetStopped>(
            replyTo => new FleetCoordinator.DriverStopAll(replyTo, TimeSpan.FromSeconds(20)), TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.NotNull(stopped);

        // The last reports came before the stop answers: the merged numbers are final.
        var snapshot = cluster.Metrics.Snapshot();
        Assert.Equal(0, Connected(cluster));
        Assert.Equal(40, snapshot.Operations[Operations.Connect].OkCount);
        Assert.Equal(snapshot.Counters[Counters.TelemetrySent], snapshot.Counters[Counters.TelemetryAcked]);
        Assert.Equal(snapshot.Counters[Counters.TelemetryAcked], snapshot.Operations[Operations.Telemetry].OkCount);
        Assert.Equal(snapshot.Counters[Counters.TelemetrySent], Sent(cluster, 0) + Sent(cluster, 1));
    }

    [Fact]
    public async Task Broadcasts_reach_every_worker()
    {
        await using var cluster = await InProcessCluster.StartAsync(workers: 2);
        cluster.StartAll();
        await InProcessCluster.Eventually(() => Connected(cluster) == 40 && Sent(cluster, 0) > 0 && Sent(cluster, 1) > 0, "telemetry on both workers");

        cluster.Driver.SetPaused(true);
        await InProcessCluster.Eventually(() => Quiet(cluster), "telemetry paused on both workers");

        var before = (Sent(cluster, 0), Sent(cluster, 1));
        cluster.Driver.SetPaused(false);
        await InProcessCluster.Eventually(() => Sent(cluster, 0) > before.Item1 && Sent(cluster, 1) > before.Item2, "telemetry resumed on both workers");
    }

    /// <summary>Neither worker's sent count moved across three reports (about 3 s: a paused fleet sends nothing).</summary>
    private static bool Quiet(InProcessCluster cluster)
    {
        var now = (Sent(cluster, 0), Sent(cluster, 1));
        if (now != _lastSeen.Counts)
        {
            _lastSeen = (now, DateTime.UtcNow);
            return false;
        }

        return DateTime.UtcNow - _lastSeen.Since > TimeSpan.FromSeconds(3);
    }

    private static ((long, long) Counts, DateTime Since) _lastSeen;

    [Fact]
    public async Task A_lost_worker_s_devices_start_again_on_the_survivor_and_the_loss_is_an_event()
    {
        await using var cluster = await InProcessCluster.StartAsync(workers: 2);
        cluster.StartAll();
        await InProcessCluster.Eventually(() => Hosted(cluster, 0) + Hosted(cluster, 1) == 40, "the workers report 40 devices");
        var lostHosted = Hosted(cluster, 1);

        // Down the second worker, as the split brain resolver does with a killed one.
        var lost = Akka.Cluster.Cluster.Get(cluster.WorkerSystems[1]).SelfAddress;
        Akka.Cluster.Cluster.Get(cluster.CoordinatorSystem).Down(lost);

        await InProcessCluster.Eventually(() => Hosted(cluster, 0) == 40, "the survivor hosts every device", TimeSpan.FromSeconds(90));
        await InProcessCluster.Eventually(() => Connected(cluster) == 40, "every device connected again");
        NodeEvent? loss = null;
        await InProcessCluster.Eventually(async () =>
        {
            var events = await cluster.Coordinator.Ask<FleetCoordinator.NodeEvents>(FleetCoordinator.GetNodeEvents.Instance, TimeSpan.FromSeconds(5));
            loss = events.Events.SingleOrDefault();
            return loss is not null && loss.DevicesRecovered == loss.DevicesAffected;
        }, "the loss event with every device recovered");

        Assert.Equal(NodeEventKinds.Lost, loss!.Kind);
        Assert.Equal(cluster.NodeName(1), loss.Node);
        Assert.Equal(lostHosted, loss.DevicesAffected);
        Assert.NotNull(loss.OutageSecondsMax);
    }

    [Fact]
    public async Task A_worker_that_joins_mid_run_gets_the_plan_and_takes_a_share_of_new_devices()
    {
        await using var cluster = await InProcessCluster.StartAsync(workers: 1);
        cluster.Start(0, 5);
        await InProcessCluster.Eventually(() => Connected(cluster) == 10, "the first devices on the first worker");

        await cluster.AddWorkerAsync();
        await InProcessCluster.Eventually(async () =>
        {
            var events = await cluster.Coordinator.Ask<FleetCoordinator.NodeEvents>(FleetCoordinator.GetNodeEvents.Instance, TimeSpan.FromSeconds(5));
            return events.Events.Any(e => e.Kind == NodeEventKinds.Joined && e.Node == cluster.NodeName(1));
        }, "the second worker joined and accepted the plan");
        cluster.Start(5, 20);

        await InProcessCluster.Eventually(() => Connected(cluster) == 40 && Hosted(cluster, 1) > 0 && Hosted(cluster, 0) + Hosted(cluster, 1) == 40,
            "the new worker hosts some of the devices started after it joined, and every device runs once");
    }
}

/// <summary>The last worker lost mid-run: the coordinator says so (the run session aborts the run on it).</summary>
public sealed class AllWorkersLostTests
{
    [Fact]
    public async Task Losing_the_only_worker_mid_run_is_published_as_every_worker_lost()
    {
        await using var cluster = await InProcessCluster.StartAsync(workers: 1);
        var probe = new Akka.TestKit.Xunit2.TestKit(cluster.CoordinatorSystem);
        cluster.CoordinatorSystem.EventStream.Subscribe(probe.TestActor, typeof(FleetCoordinator.AllWorkersLost));
        cluster.StartAll();
        await InProcessCluster.Eventually(() => cluster.Metrics.Gauge(NodeMetrics.DevicesHosted(cluster.NodeName(0))).Value == 40, "the worker reports its 40 devices");

        Akka.Cluster.Cluster.Get(cluster.CoordinatorSystem).Down(Akka.Cluster.Cluster.Get(cluster.WorkerSystems[0]).SelfAddress);

        var lost = probe.ExpectMsg<FleetCoordinator.AllWorkersLost>(TimeSpan.FromSeconds(120)); // removal of a downed member takes a while on a loaded machine
        Assert.Contains(cluster.NodeName(0), lost.Reason);
        Assert.Contains("every worker was lost", lost.Reason);
    }

    [Fact]
    public async Task Losing_one_of_two_workers_is_not_every_worker_lost()
    {
        await using var cluster = await InProcessCluster.StartAsync(workers: 2);
        var probe = new Akka.TestKit.Xunit2.TestKit(cluster.CoordinatorSystem);
        cluster.CoordinatorSystem.EventStream.Subscribe(probe.TestActor, typeof(FleetCoordinator.AllWorkersLost));
        cluster.StartAll();
        await InProcessCluster.Eventually(() => cluster.Metrics.Gauge(Gauges.DevicesConnected).Value == 40, "40 devices connected");

        Akka.Cluster.Cluster.Get(cluster.CoordinatorSystem).Down(Akka.Cluster.Cluster.Get(cluster.WorkerSystems[1]).SelfAddress);
        await InProcessCluster.Eventually(async () =>
            (await cluster.Coordinator.Ask<FleetCoordinator.NodeEvents>(FleetCoordinator.GetNodeEvents.Instance, TimeSpan.FromSeconds(5))).Events.Count == 1,
            "the loss is an event", TimeSpan.FromSeconds(120));
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(500));
    }
}
