using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using FleetSim.Metrics;
using FleetSim.Reporting;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Parsing;
using FleetSim.Scenarios.Running;
using FleetSim.Scenarios.Service;

namespace FleetSim.Scenarios.Tests.Running;

public class ServiceLoadTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private static Scenario Parse(string yaml)
    {
        var result = ScenarioLoader.LoadFromText(yaml, "test.yaml");
        Assert.True(result.Success, string.Join("\n", result.Errors));
        return result.Scenario!;
    }

    private const string TwoGroups = """
        name: service
        deviceGroups:
          - {name: a, count: 10, idPattern: "a-{index}", methods: {ping: {status: 200}}}
          - {name: b, count: 10, idPattern: "b-{index}", c2d: {ack: true}}
        duration: 60s
        service:
          - invokeMethod: {name: ping, ratePerSecond: 20, target: "group:a"}
          - sendC2d: {template: '{"cmd": "x"}', ratePerSecond: 5, target: random}
          - patchDesired: {template: '{"v": "{{counter}}"}', ratePerSecond: 2, target: all}
        """;

    [Fact]
    public void Calls_follow_the_asked_rate_and_targets()
    {
        var actions = new RecordingActions();
        var load = new ServiceLoad(Parse(TwoGroups), actions, new FleetMetrics());
        int[] active = [10, 4];
        for (var t = 0.05; t <= 10.0001; t += 0.05)
            load.Tick(Start, TimeSpan.FromSeconds(t), active, paused: false);

        // 20/s for 10 s (calls due at 0, 0.05, ..., 10.0) within 1 %.
        Assert.InRange(actions.Methods.Count, 199, 202);
        Assert.All(actions.Methods, id => Assert.StartsWith("a-", id));
        Assert.InRange(actions.C2d.Count, 49, 52);
        Assert.All(actions.C2d, id => Assert.True(id.StartsWith("a-") || id is "b-0" or "b-1" or "b-2" or "b-3", id));
        // "all": every active device per call, 2 calls per second.
        Assert.InRange(actions.Desired.Count, 14 * 20, 14 * 21);
        Assert.All(actions.DesiredPatches, p => Assert.True(p.ContainsKey("fleetsim-sent")));
    }

    [Fact]
    public void Paused_calls_are_skipped_not_queued()
    {
        var actions = new RecordingActions();
        var load = new ServiceLoad(Parse(TwoGroups), actions, new FleetMetrics());
        int[] active = [10, 10];
        load.Tick(Start, TimeSpan.FromSeconds(5), active, paused: true);
        Assert.Empty(actions.Methods);
        load.Tick(Start, TimeSpan.FromSeconds(6), active, paused: false);
        Assert.InRange(actions.Methods.Count, 20, 21); // only the second after the pause
    }

    [Fact]
    public void Latency_is_measured_from_the_intended_moment_and_failures_by_hub_error()
    {
        var actions = new RecordingActions { FailMethodsWith = new HubServiceException(System.Net.HttpStatusCode.NotFound, "DeviceNotOnline", "offline") };
        var metrics = new FleetMetrics();
        var load = new ServiceLoad(Parse(TwoGroups), actions, metrics);
        load.Tick(Start, TimeSpan.FromSeconds(1), [10, 10], paused: false);
        var method = metrics.Snapshot().Operations[ServiceLoad.MethodService];
        Assert.Equal(0, method.OkCount);
        Assert.Equal(21, method.FailuresByReason["DeviceNotOnline"]);

        // The C2D calls were due at 0, 0.2, ... 1.0 s after a start long ago: their latency includes that lateness.
        var c2d = metrics.Snapshot().Operations[ServiceLoad.C2dSend];
        Assert.Equal(6, c2d.OkCount);
        Assert.True(c2d.Latency.MinMs() > 1000 * (DateTimeOffset.UtcNow - Start - TimeSpan.FromSeconds(2)).TotalSeconds);
    }

    private sealed class RecordingActions : IServiceActions
    {
        public ConcurrentQueue<string> Methods { get; } = new();
        public ConcurrentQueue<string> C2d { get; } = new();
        public ConcurrentQueue<string> Desired { get; } = new();
        public ConcurrentQueue<JsonObject> DesiredPatches { get; } = new();
        public Exception? FailMethodsWith { get; init; }

        public Task<int> InvokeMethodAsync(string deviceId, string methodName, JsonNode? payload, TimeSpan responseTimeout, TimeSpan connectTimeout, CancellationToken ct)
        {
            Methods.Enqueue(deviceId);
            return FailMethodsWith is null ? Task.FromResult(200) : Task.FromException<int>(FailMethodsWith);
        }

        public Task PatchDesiredAsync(string deviceId, JsonObject desired, CancellationToken ct)
        {
            Desired.Enqueue(deviceId);
            DesiredPatches.Enqueue(desired);
            return Task.CompletedTask;
        }

        public Task SendC2dAsync(string deviceId, byte[] body, IReadOnlyList<KeyValuePair<string, string?>> properties, CancellationToken ct)
        {
            C2d.Enqueue(deviceId);
            return Task.CompletedTask;
        }
    }
}

internal static class LatencyExtensions
{
    public static double MinMs(this LatencyStats stats) => stats.Distribution.Count > 0 ? stats.Distribution[0].ValueMs : 0;
}
