using FleetSim.HubEmulator.Mqtt;

namespace FleetSim.HubEmulator.Faults;

/// <summary>The MQTT front end as the fault injector sees it: who is connected, and ways to cut one connection.</summary>
internal interface IConnectionControl
{
    IReadOnlyList<string> ConnectedDeviceIds();

    Task<bool> DisconnectAsync(string deviceId, DisconnectReason reason);

    /// <summary>Revokes the device's current SAS token (and older ones) and closes its connection; false if it had none.</summary>
    Task<bool> ExpireTokenAsync(string deviceId);
}
