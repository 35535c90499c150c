using System.Text.Json.Nodes;

namespace FleetSim.Conformance.Tests.Harness;

/// <summary>
/// Checks on the emulator's own state, read through its HTTPS API (registry, twins, /fleetsim/* extensions).
/// Hub-side effects can trail the SDK's callback by a moment, so each check polls with a deadline.
/// </summary>
public static class HubAssert
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    /// <summary>The device's telemetry as the hub counted it from the fleetsim-seq property.</summary>
    public static Task IngestedAsync(ConformanceFixture fixture, string deviceId, long ingested, long highestSequence) =>
        EventuallyAsync(async () =>
        {
            var counts = await fixture.Api.SendAsync(HttpMethod.Get, $"fleetsim/stats/devices/{Uri.EscapeDataString(deviceId)}");
            var got = (Ingested: (long?)counts?["ingested"], Lost: (long?)counts?["lost"], Duplicated: (long?)counts?["duplicated"],
                Highest: (long?)counts?["highestSequence"]);
            return (got.Ingested == ingested && got.Lost == 0 && got.Duplicated == 0 && got.Highest == highestSequence,
                $"device {deviceId}: expected {ingested} ingested, 0 lost, 0 duplicated, highest sequence {highestSequence}; the hub says {counts?.ToJsonString()}");
        });

    /// <summary>The last telemetry message the hub kept for the device carries these properties (decoded).</summary>
    public static Task LastMessagePropertiesAsync(ConformanceFixture fixture, string deviceId, IReadOnlyDictionary<string, string> expected) =>
        EventuallyAsync(async () =>
        {
            var messages = await fixture.Api.SendAsync(HttpMethod.Get, $"fleetsim/devices/{Uri.EscapeDataString(deviceId)}/messages");
            var last = messages is JsonArray { Count: > 0 } list ? list[^1] : null;
            var properties = last?["properties"] as JsonObject;
            var missing = expected.Where(p => (string?)properties?[p.Key] != p.Value).Select(p => p.Key).ToList();
            return (missing.Count == 0, $"device {deviceId}: last message lacks {string.Join(", ", missing)}; the hub has {last?.ToJsonString()}");
        });

    /// <summary>The hub accepted at least <paramref name="count"/> MQTT connections for the device.</summary>
    public static Task DeviceConnectedAtLeastAsync(ConformanceFixture fixture, string deviceId, int count) =>
        EventuallyAsync(async () =>
        {
            var counts = await fixture.Api.SendAsync(HttpMethod.Get, $"fleetsim/stats/devices/{Uri.EscapeDataString(deviceId)}");
            var connects = (long?)counts?["connects"] ?? 0;
            return (connects >= count, $"device {deviceId}: expected at least {count} accepted connections; the hub says {counts?.ToJsonString()}");
        });

    /// <summary>The uploaded blob holds exactly <paramref name="text"/> and the hub recorded a successful notification.</summary>
    public static Task UploadedAsync(ConformanceFixture fixture, string deviceId, string blobName, string text) =>
        EventuallyAsync(async () =>
        {
            var uploads = await fixture.Api.SendAsync(HttpMethod.Get, $"fleetsim/devices/{Uri.EscapeDataString(deviceId)}/files");
            var upload = (uploads as JsonArray)?.FirstOrDefault(u => (string?)u?["blobName"] == blobName);
            var path = (string?)upload?["path"];
            var content = path is not null && File.Exists(path) ? await File.ReadAllTextAsync(path) : null;
            var notified = (bool?)upload?["isSuccess"] == true;
            return (content == text && notified,
                $"device {deviceId}: expected blob '{blobName}' with the uploaded text and a successful notification; the hub has {uploads?.ToJsonString()}");
        });

    private static async Task EventuallyAsync(Func<Task<(bool Ok, string Why)>> check)
    {
        var until = DateTime.UtcNow + Deadline;
        while (true)
        {
            var (ok, why) = await check();
            if (ok)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < until, why);
            await Task.Delay(100); // polling the hub's API until the deadline
        }
    }
}
