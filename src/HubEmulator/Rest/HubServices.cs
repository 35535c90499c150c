using FleetSim.HubEmulator.Faults;
using FleetSim.HubEmulator.Ingest;
using FleetSim.HubEmulator.Mqtt;
using FleetSim.HubEmulator.Registry;

namespace FleetSim.HubEmulator.Rest;

/// <summary>What the REST endpoints work with; one instance per emulator.</summary>
internal sealed record HubServices(
    string HostName,
    DeviceRegistry Registry,
    IngestAccounting Ingest,
    FaultInjector Faults,
    HubMqttServer Mqtt,
    ServiceAuthorization Authorization,
    TimeProvider Time)
{
    /// <summary>C2D messages waiting for the device (cloudToDeviceMessageCount).</summary>
    public int C2dCount(RegisteredDevice device) => 0;
}
