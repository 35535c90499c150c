using FleetSim.Simulator.Cluster;

namespace FleetSim.Simulator.Tests;

/// <summary>
/// The run downs a local worker the moment its process exits, by the member address the worker announced on its first
/// line (fleetsim node prints it); the end-to-end side is ClusterRunTests' killed worker.
/// </summary>
public sealed class LocalWorkersTests
{
    [Fact]
    public void A_worker_s_announced_member_address_is_read_from_its_first_line()
    {
        Assert.True(LocalWorkers.TryParseNodeAddress("node akka.tcp://fleetsim@127.0.0.1:41227 joining 127.0.0.1:35031", out var address));
        Assert.Equal("akka.tcp://fleetsim@127.0.0.1:41227", address);
        Assert.Equal("127.0.0.1", Akka.Actor.Address.Parse(address).Host);
    }

    [Theory]
    [InlineData("node akka.tcp://fleetsim@127.0.0.1:41227 left the cluster (the run's coordinator is gone)")]
    [InlineData("error: could not join the cluster at 127.0.0.1:1")]
    [InlineData("node  joining 127.0.0.1:35031")]
    [InlineData("node http://x:1 joining y")]
    public void Other_lines_announce_nothing(string line) => Assert.False(LocalWorkers.TryParseNodeAddress(line, out _));
}
