using System.Text.Json.Nodes;
using FleetSim.Scenarios.Service;

namespace FleetSim.Simulator.Run;

/// <summary>
/// Finding and deleting devices that runs created. A device counts as a run's only when it carries the twin tag
/// <c>tags.fleetsim.run</c> that registration puts on every device it creates: a prefix alone never selects a device.
/// </summary>
public static class DeviceCleanup
{
    /// <summary>The ids of the devices run <paramref name="runId"/> created (the hub's device query on the run tag).</summary>
    public static async Task<IReadOnlyList<string>> FindByRunAsync(HubServiceClient service, string runId, CancellationToken ct) =>
        Ids(await service.QueryAsync($"SELECT deviceId FROM devices WHERE tags.{Registration.TagRoot}.{Registration.RunTag} = '{Quote(runId)}'", ct));

    /// <summary>The ids of devices whose id starts with <paramref name="prefix"/> and that some run created.</summary>
    public static async Task<IReadOnlyList<string>> FindByPrefixAsync(HubServiceClient service, string prefix, CancellationToken ct) =>
        Ids(await service.QueryAsync(
            $"SELECT deviceId FROM devices WHERE STARTSWITH(deviceId, '{Quote(prefix)}') AND IS_DEFINED(tags.{Registration.TagRoot}.{Registration.RunTag})", ct));

    /// <summary>Deletes the devices by bulk calls of 100; ones already gone count as deleted. Returns how many went.</summary>
    public static async Task<int> DeleteAsync(HubServiceClient service, IReadOnlyList<string> deviceIds, CancellationToken ct, IProgress<int>? progress = null)
    {
        var deleted = 0;
        foreach (var batch in deviceIds.Chunk(HubServiceClient.MaxBulkDevices))
        {
            var operations = batch.Select(id => new JsonObject { ["id"] = id, ["importMode"] = "delete" }).ToList();
            var errors = await service.BulkAsync(operations, ct);
            var failed = errors.Where(e => e.ErrorCode != "DeviceNotFound").ToList();
            if (failed.Count > 0)
                throw new HubServiceException(System.Net.HttpStatusCode.BadRequest, failed[0].ErrorCode,
                    $"{failed.Count} devices were not deleted, e.g. '{failed[0].DeviceId}': {failed[0].ErrorStatus}");
            deleted += batch.Length;
            progress?.Report(deleted);
        }

        return deleted;
    }

    private static List<string> Ids(IReadOnlyList<JsonObject> rows) =>
        [.. rows.Select(r => r["deviceId"]?.GetValue<string>()).OfType<string>().Order(StringComparer.Ordinal)];

    private static string Quote(string text) => text.Replace("'", "''", StringComparison.Ordinal);
}
