using FleetSim.DeviceActors;

namespace FleetSim.Scenarios.Running;

/// <summary>One bit per device of a group: set while the device is connected. Lock-free; written by device actors, read by the service load.</summary>
public sealed class ConnectedDevices(int devices) : IConnectionObserver
{
    private readonly long[] _bits = new long[(devices + 63) / 64];

    public void Connected(int deviceIndex) => Interlocked.Or(ref _bits[deviceIndex >> 6], 1L << (deviceIndex & 63));

    public void Disconnected(int deviceIndex) => Interlocked.And(ref _bits[deviceIndex >> 6], ~(1L << (deviceIndex & 63)));

    public bool IsConnected(int deviceIndex) => (Volatile.Read(ref _bits[deviceIndex >> 6]) & (1L << (deviceIndex & 63))) != 0;
}
