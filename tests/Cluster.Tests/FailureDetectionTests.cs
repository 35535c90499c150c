using Akka.Hosting;
using Akka.Remote;
using FleetSim.Cluster.Hosting;
using FleetSim.Cluster.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace FleetSim.Cluster.Tests;

/// <summary>
/// The cluster's failure detector as composed for every FleetSim member, driven by a fake clock: heartbeats as late as a
/// loaded 2-core machine delivers them must not make a worker unreachable (that downed every worker of a 30,000-device
/// run), while a worker that went silent (killed elsewhere) still is within a minute and a half.
/// </summary>
public sealed class FailureDetectionTests
{
    private long _now;

    private PhiAccrualFailureDetector Detector()
    {
        var builder = new AkkaConfigurationBuilder(new ServiceCollection(), ClusterHosting.SystemName);
        builder.WithFleetSimCluster(DeviceShards.Role, ClusterEndpoint.Loopback, []);
        var fd = builder.Configuration.Value.WithFallback(Akka.Configuration.ConfigurationFactory.FromResource<Akka.Cluster.Cluster>("Akka.Cluster.Configuration.Cluster.conf")).GetConfig("akka.cluster.failure-detector");
        return new PhiAccrualFailureDetector(
            fd.GetDouble("threshold"), fd.GetInt("max-sample-size"), fd.GetTimeSpan("min-std-deviation"),
            fd.GetTimeSpan("acceptable-heartbeat-pause"), fd.GetTimeSpan("heartbeat-interval"), () => _now);
    }

    /// <summary>Heartbeats every second for a minute (a quiet start), as the detector has learned them when the load begins.</summary>
    private void Steady(PhiAccrualFailureDetector detector)
    {
        for (var i = 0; i < 60; i++)
        {
            detector.HeartBeat();
            _now += 1000;
        }
    }

    [Fact]
    public void Heartbeats_delayed_as_on_the_loaded_30k_run_keep_a_worker_reachable()
    {
        var detector = Detector();
        Steady(detector);

        // Measured in those runs: heartbeats 2.2 to 5.6 s apart, and stalls of 13.7, 14.6, 20.1 and 24.2 s.
        foreach (var gap in new[] { 2200, 3900, 5600, 13_700, 14_600, 1000, 20_100, 24_200, 5600, 24_200 })
        {
            _now += gap;
            Assert.True(detector.IsAvailable, $"unreachable after a {gap} ms gap");
            detector.HeartBeat();
        }
    }

    [Fact]
    public void A_worker_that_went_silent_is_unreachable_within_a_minute_and_a_half()
    {
        var detector = Detector();
        Steady(detector);
        detector.HeartBeat();
        _now += 90_000;
        Assert.False(detector.IsAvailable);
    }
}
