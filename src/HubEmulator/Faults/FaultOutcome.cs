namespace FleetSim.HubEmulator.Faults;

/// <summary>
/// What one applied fault did, for the run's fault events and recovery metrics: its kind (the REST name, e.g.
/// <c>drop</c>, <c>hub-restart</c>, <c>blackhole</c>), when it began and, for faults with a period, when it ends,
/// and the devices whose connections the hub dropped or silenced (empty for faults that cut nothing, such as
/// <c>latency</c> or <c>refuse-connects</c>).
/// </summary>
public sealed record FaultOutcome(string Kind, DateTimeOffset Start, DateTimeOffset? End, IReadOnlyList<string> AffectedDeviceIds)
{
    public int Affected => AffectedDeviceIds.Count;
}
