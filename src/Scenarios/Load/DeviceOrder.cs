namespace FleetSim.Scenarios.Load;

/// <summary>
/// The order in which devices of several groups join the fleet: interleaved in proportion to the group sizes, so
/// that at any fleet size each group holds its share (a ramp to half the fleet is half of every group). The order is
/// fixed, so growing the target only appends devices and shrinking it removes the newest ones.
/// </summary>
public sealed class DeviceOrder
{
    private readonly int[] _group;
    private readonly int[] _index;

    public DeviceOrder(IReadOnlyList<int> groupSizes)
    {
        var total = 0;
        foreach (var size in groupSizes)
            total += size;
        _group = new int[total];
        _index = new int[total];
        var assigned = new int[groupSizes.Count];
        for (var k = 0; k < total; k++)
        {
            // Smooth weighted round robin: the group furthest behind its proportional share goes next.
            var best = -1;
            var bestDeficit = double.NegativeInfinity;
            for (var g = 0; g < groupSizes.Count; g++)
            {
                if (assigned[g] >= groupSizes[g])
                    continue;
                var deficit = (double)groupSizes[g] * (k + 1) / total - assigned[g];
                if (deficit > bestDeficit)
                {
                    bestDeficit = deficit;
                    best = g;
                }
            }

            _group[k] = best;
            _index[k] = assigned[best]++;
        }
    }

    public int Count => _group.Length;

    /// <summary>The k-th device to join (0-based): its group and its index within the group.</summary>
    public (int Group, int Index) this[int k] => (_group[k], _index[k]);
}
