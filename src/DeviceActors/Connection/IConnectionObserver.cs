namespace FleetSim.DeviceActors;

/// <summary>
/// Learns which devices of a group are connected, e.g. so service-side load targets devices that can answer. Called
/// from the device's actor; implementations must be thread-safe and cheap (a lock-free bit per device).
/// </summary>
public interface IConnectionObserver
{
    /// <summary>The device is connected and subscribed (after its SUBACK, or at CONNACK when the session was kept).</summary>
    void Connected(int deviceIndex);

    void Disconnected(int deviceIndex);
}
