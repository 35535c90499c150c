using Akka.Actor;
using FleetSim.Cluster.Protocol;
using FleetSim.Metrics;

namespace FleetSim.Cluster.Tests;

/// <summary>Every message that crosses processes goes through the cluster serializer and comes back the same.</summary>
public sealed class SerializerTests() : Akka.TestKit.Xunit2.TestKit(ClusterSerializer.Hocon + "\nakka.loglevel = WARNING")
{
    private IEnumerable<object> Messages()
    {
        var node = new FleetMetrics(exportIntervals: true);
        node.Operation(Operations.Telemetry).RecordOk(TimeSpan.FromMilliseconds(12));
        node.Operation(Operations.Connect).RecordFailure("timeout");
        node.Counter(Counters.TelemetrySent).Add(3);
        node.Gauge(Gauges.DevicesConnected).Set(2);
        node.Recovery.Lost("d1", DateTimeOffset.UnixEpoch.AddSeconds(7), "network");
        node.Twin.Record(new TwinCheck("d1", ReportedMatches: false, DesiredApplied: 3, DesiredAtHub: 4, Unchecked: null));
        yield return new RunPlan("run-1", "name: x\ndevices: {count: 1}\nduration: 1s", "/tmp/x.yaml", ["duration=5s"], 0.5, 42, "localhost", "127.0.0.1", 8883,
            443, "-----BEGIN CERTIFICATE-----", [new PlanPartition("127.0.0.2", 1, 2)], ["127.0.1.1"], TestActor);
        yield return new NodeJoined("127.0.0.1:1", TestActor);
        yield return new NodePlanRejected("127.0.0.1:1", ["x.yaml:1:1: error: nope"]);
        yield return new NodeReport("127.0.0.1:1", node.TakeInterval(), 2, 1234, 5_000_000, ["7", "42"], [new RecoveredDevice("d1", DateTimeOffset.UnixEpoch)]);
        yield return new RecoveredDevice("d2", DateTimeOffset.UnixEpoch.AddSeconds(5));
        yield return new NodeStopped("127.0.0.1:1", 2, 0, false);
        yield return new StartDevice("d1", 1, 7, "a2V5", null, DateTimeOffset.UnixEpoch, 41, true);
        yield return new StartDevice("d2", 0, 8, null, [1, 2, 3], DateTimeOffset.UnixEpoch, 0, false);
        yield return new StopDevice("d1");
        yield return new DeviceHandedOff("d1", 1, 7, 99);
        yield return new SetTelemetryInterval(1, TimeSpan.FromMilliseconds(1500));
        yield return new SetPaused(true);
        yield return new StopAllDevices(TimeSpan.FromSeconds(30));
        yield return new PlanPartition("127.0.0.3", 8883, 443);
    }

    [Fact]
    public void Every_cluster_message_round_trips_through_the_cluster_serializer()
    {
        var serialization = Sys.Serialization;
        foreach (var message in Messages())
        {
            var serializer = serialization.FindSerializerFor(message);
            Assert.IsType<ClusterSerializer>(serializer);
            var manifest = ((ClusterSerializer)serializer).Manifest(message);
            var bytes = serializer.ToBinary(message);
            var back = serialization.Deserialize(bytes, serializer.Identifier, manifest);

            Assert.IsType(message.GetType(), back);
            Assert.Equal(bytes, serializer.ToBinary(back)); // field by field, arrays and actor references included
        }
    }

    [Fact]
    public void Actor_references_and_histograms_survive_the_trip()
    {
        var report = Messages().OfType<NodeReport>().Single();
        var serializer = (ClusterSerializer)Sys.Serialization.FindSerializerFor(report);
        var back = (NodeReport)serializer.FromBinary(serializer.ToBinary(report), serializer.Manifest(report));
        var joined = (NodeJoined)serializer.FromBinary(serializer.ToBinary(new NodeJoined("n", TestActor)), "joined");

        Assert.Equal(TestActor, joined.NodeActor);
        var telemetry = back.Metrics.Operations.Single(o => o.Name == Operations.Telemetry);
        Assert.Equal(1, telemetry.CountOk());
        Assert.Equal(1, back.Metrics.Operations.Single(o => o.Name == Operations.Connect).Failures["timeout"]);
        Assert.Equal(3, back.Metrics.Counters[Counters.TelemetrySent]);
        Assert.Equal(new GaugeSnapshot(2, 2), back.Metrics.Gauges[Gauges.DevicesConnected]);
        Assert.Equal(new RecoveryEvent("d1", RecoveryEventKind.Lost, 7000, "network"), Assert.Single(back.Metrics.Recovery));
        Assert.Equal(new TwinCheck("d1", false, 3, 4, null), Assert.Single(back.Metrics.Twin));
    }

    [Fact]
    public void Messages_holding_credentials_or_scenario_text_do_not_show_them()
    {
        foreach (var message in Messages().Where(m => m is RunPlan or StartDevice))
        {
            var text = message.ToString()!;
            Assert.DoesNotContain("a2V5", text);
            Assert.DoesNotContain("devices: {count", text);
            Assert.DoesNotContain("BEGIN CERTIFICATE", text);
        }
    }

    [Fact]
    public void An_unknown_manifest_is_refused()
    {
        var serializer = new ClusterSerializer((ExtendedActorSystem)Sys);
        Assert.Throws<SerializationException>(() => serializer.FromBinary([], "nope"));
    }
}
