using System.Text.Json.Nodes;

namespace FleetSim.Conformance.Tests.Harness;

/// <summary>One expected change of a /fleetsim/stats counter (a dotted path such as "refusedByReason.badSignature").</summary>
public readonly record struct StatChange(string Path, long Delta, bool AtLeast)
{
    public static StatChange Exactly(string path, long delta) => new(path, delta, false);

    public static StatChange AtLeastBy(string path, long delta) => new(path, delta, true);

    public override string ToString() => $"{Path} {(AtLeast ? ">=" : "=")} +{Delta}";
}

/// <summary>
/// Checks on the emulator's own state, read through its HTTPS API (registry, twins, /fleetsim/stats) and its data
/// folder. The conformance cases run one at a time against one hub, so a change of the hub-wide counters between
/// the snapshot before a script and the end of the script belongs to that script. Hub-side effects can trail the
/// SDK's callback by a moment, so each check polls with a deadline.
/// </summary>
public static class HubAssert
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    public static Task<JsonObject> StatsAsync(ConformanceFixture fixture) => fixture.Api.GetStatsAsync();

    /// <summary>The hub-wide counters moved from <paramref name="before"/> exactly (or at least) as expected.</summary>
    public static Task StatsChangedAsync(ConformanceFixture fixture, JsonObject before, params StatChange[] expected) =>
        EventuallyAsync(async () =>
        {
            var after = await fixture.Api.GetStatsAsync();
            var wrong = new List<string>();
            foreach (var change in expected)
            {
                var delta = Read(after, change.Path) - Read(before, change.Path);
                if (change.AtLeast ? delta < change.Delta : delta != change.Delta)
                {
                    wrong.Add($"{change.Path} changed by {delta}, expected {(change.AtLeast ? "at least " : "")}{change.Delta}");
                }
            }

            return (wrong.Count == 0, $"{string.Join("; ", wrong)}.\nbefore: {before.ToJsonString()}\nafter:  {after.ToJsonString()}");
        });

    /// <summary>
    /// The last telemetry message the hub received from the device carries these properties, decoded (emulator
    /// extension GET /fleetsim/devices/{id}/telemetry/last).
    /// </summary>
    public static Task LastTelemetryPropertiesAsync(ConformanceFixture fixture, string deviceId, IReadOnlyDictionary<string, string> expected) =>
        EventuallyAsync(async () =>
        {
            var path = $"fleetsim/devices/{Uri.EscapeDataString(deviceId)}/telemetry/last";
            var (status, body) = await fixture.Api.SendRawAsync(HttpMethod.Get, path);
            if ((int)status != 200)
            {
                return (false, $"GET /{path} answered {(int)status}: {body}");
            }

            var last = JsonNode.Parse(body);
            var properties = last?["properties"] as JsonObject;
            var missing = expected.Where(p => (string?)properties?[p.Key] != p.Value).Select(p => $"{p.Key}={p.Value}").ToList();
            return (missing.Count == 0, $"device {deviceId}: the last message lacks {string.Join(", ", missing)}; the hub has {last?.ToJsonString()}");
        });

    /// <summary>A file named like the blob, with exactly <paramref name="text"/>, is in the hub's --data-dir.</summary>
    public static Task BlobStoredAsync(ConformanceFixture fixture, string blobFileName, string text) =>
        EventuallyAsync(async () =>
        {
            var root = fixture.Hub.DataDirectory;
            var candidates = Directory.Exists(root)
                ? Directory.GetFiles(root, blobFileName, SearchOption.AllDirectories)
                : [];
            foreach (var path in candidates)
            {
                if (await File.ReadAllTextAsync(path) == text)
                {
                    return (true, "");
                }
            }

            return (false, $"no file '{blobFileName}' with the uploaded text under the hub's data folder {root} (found {candidates.Length} with that name)");
        });

    private static long Read(JsonObject stats, string path)
    {
        JsonNode? node = stats;
        foreach (var part in path.Split('.'))
        {
            node = node?[part];
        }

        return node is null ? 0 : node.GetValue<long>();
    }

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
