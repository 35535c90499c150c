using FleetSim.Scenarios.Model;
using FleetSim.Simulator.Run;

namespace FleetSim.Simulator.Tests;

/// <summary>The words a report uses for a fault, shared by the in-process and the partitioned (REST) emulator.</summary>
public sealed class FaultDescriptionsTests
{
    [Fact]
    public void A_fleet_wide_fault_names_its_count_and_period()
    {
        var blackhole = new BlackholeFault(TimeSpan.FromSeconds(3), 0.5, TimeSpan.FromSeconds(2.5));

        Assert.Equal("blackholed 7 connections (50%) for 2.5 s", FaultDescriptions.Of(blackhole, 7, targeted: false).Replace(" %", "%", StringComparison.Ordinal));
    }

    [Fact]
    public void A_targeted_fault_names_its_group()
    {
        var refuse = new RefuseConnectsFault(TimeSpan.Zero, TimeSpan.FromSeconds(10)) { Target = new FaultTargetSpec("edge", []) };

        Assert.Equal("refusing connects of group edge (CONNACK 3) for 10 s", FaultDescriptions.Of(refuse, 0, targeted: true));
    }

    [Fact]
    public void A_drop_of_one_device_says_whether_it_was_connected()
    {
        var drop = new DropConnectionsFault(TimeSpan.Zero, 0, "dev-1");

        Assert.Equal("dropped dev-1", FaultDescriptions.Of(drop, 1, targeted: false));
        Assert.Equal("dev-1 was not connected", FaultDescriptions.Of(drop, 0, targeted: false));
    }
}
