using FleetSim.HubEmulator.C2d;
using FleetSim.HubEmulator.Faults;
using FleetSim.HubEmulator.Ingest;
using FleetSim.HubEmulator.Mqtt;
using FleetSim.HubEmulator.Methods;
using FleetSim.HubEmulator.Registry;
using FleetSim.HubEmulator.Throttling;
using FleetSim.HubEmulator.Twins;

namespace FleetSim.HubEmulator.Rest;

/// <summary>What the REST endpoints work with; one instance per emulator.</summary>
internal sealed record HubServices(
    HubHostNames HostNames,
    DeviceRegistry Registry,
    IngestAccounting Ingest,
    FaultInjector Faults,
    HubMqttServer Mqtt,
    ServiceAuthorization Authorization,
    TimeProvider Time,
    TwinService Twins,
    TwinRequestHandler TwinRequests,
    DirectMethods Methods,
    CloudToDeviceMessages C2d,
    TelemetryRecorder Telemetry,
    HubThrottle Throttle)
{
    /// <summary>Jobs v2 (scheduled methods and twin updates over a query).</summary>
    public Jobs.DeviceJobs Jobs { get; } = new(Registry, Methods, Twins, Time, (device, path) => QueryEndpoints.Resolve(C2d, device, path));

    /// <summary>C2D messages queued or in flight for the device (cloudToDeviceMessageCount).</summary>
    public int C2dCount(RegisteredDevice device) => C2d.Count(device);
}
