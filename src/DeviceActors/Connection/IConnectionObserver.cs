namespace FleetSim.DeviceActors;

/// <summary>
/// Learns which devices of a group are connected, e.g. so service-side load targets devices that can answer. Called
/// from the device's actor; implementations must be thread-safe and cheap (a lock-free bit per device).
/// </summary>
public interface IConnectionObserver
{
    void Connected(int deviceIndex);

    void Disconnected(int deviceIndex);
}
