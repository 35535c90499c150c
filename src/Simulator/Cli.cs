using System.CommandLine;
using FleetSim.Simulator.Commands;

namespace FleetSim.Simulator;

/// <summary>The fleetsim command tree, one place for the program and for tests that check command lines (deploy/ files).</summary>
public static class Cli
{
    public static RootCommand Create() => new("FleetSim: load and soak tests for Azure IoT Hub with simulated device fleets")
    {
        RunCommand.Create(),
        ValidateCommand.Create(),
        HubCommand.Create(),
        ReportCommand.Create(),
        NodeCommand.Create(),
        CleanupCommand.Create(),
        Hub.HubPartitionCommand.Create(),
    };
}
