using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Service;

namespace FleetSim.Simulator.Run;

/// <summary>
/// Creates (or finds) every device identity of the scenario through the hub's registry REST API, a bounded number
/// of requests at a time, and keeps each device's primary key for the run (never logged).
/// </summary>
public static class Registration
{
    public const int Concurrency = 32;

    /// <summary>Keys per group, indexed like the group's devices.</summary>
    public static async Task<string[][]> RegisterAsync(HubServiceClient service, Scenario scenario, IProgress<int>? progress, CancellationToken ct)
    {
        var keys = new string[scenario.DeviceGroups.Count][];
        var work = new List<(int Group, int Index)>(scenario.TotalDevices);
        for (var g = 0; g < scenario.DeviceGroups.Count; g++)
        {
            keys[g] = new string[scenario.DeviceGroups[g].Count];
            for (var i = 0; i < scenario.DeviceGroups[g].Count; i++)
                work.Add((g, i));
        }

        var done = 0;
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = ct }, async (item, token) =>
        {
            var id = scenario.DeviceGroups[item.Group].DeviceId(item.Index);
            var device = await service.CreateOrGetDeviceAsync(id, token);
            keys[item.Group][item.Index] = device.PrimaryKey
                ?? throw new InvalidOperationException($"the hub returned device '{id}' without a symmetric key (is it an X.509 device?)");
            progress?.Report(Interlocked.Increment(ref done));
        });
        return keys;
    }
}
