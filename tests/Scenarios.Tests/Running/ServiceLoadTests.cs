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
    public void C2d_ack_false_reaches_the_device_options()
    {
        var scenario = Parse("""
            name: acks
            deviceGroups:
              - {name: quiet, count: 1, c2d: {ack: false}}
              - {name: polite, count: 1, c2d: {ack: true}}
            duration: 1s
            """);
        var plan = FleetPlanBuilder.Build(scenario, new DeviceEndpoint("h", "h", 8883, 443, null), [new GroupCredentials(["a2V5"], null), new GroupCredentials(["a2V5"], null)]);

        Assert.False(plan.Groups[0].Options.C2d!.Acknowledge);
        Assert.True(plan.Groups[1].Options.C2d!.Acknowledge);
    }

    [Fact]
    public void Templates_render_per_target_device_with_its_id_and_its_own_counter()
    {
        var actions = new RecordingActions();
        var load = new ServiceLoad(Parse("""
            name: service
            deviceGroups:
              - {name: a, count: 3, idPattern: "a-{index}", c2d: {ack: true}, methods: {ping: {status: 200}}}
            duration: 60s
            service:
              - sendC2d: {template: 'hello {{deviceId}} #{{counter}}', properties: {n: '{{counter}}', who: '{{deviceId}}', r: '{{randomInt 0 1000000}}'}, ratePerSecond: 1, target: all}
              - invokeMethod: {name: ping, payload: '{"to": "{{deviceId}}"}', ratePerSecond: 1, target: all}
            """), actions, new FleetMetrics());

        load.Tick(Start, TimeSpan.FromSeconds(1.5), [3], paused: false); // calls due at 0 s and 1 s, each to every device

        var sent = actions.C2dMessages.ToList();
        Assert.Equal(6, sent.Count);
        foreach (var (id, body, properties) in sent)
        {
            var nth = sent.Where(m => m.DeviceId == id).ToList().FindIndex(m => m.Body == body) + 1;
            Assert.Equal($"hello {id} #{nth}", body);
            Assert.Equal(nth.ToString(System.Globalization.CultureInfo.InvariantCulture), properties["n"]);
            Assert.Equal(id, properties["who"]);
        }

        Assert.True(sent.Select(m => m.Properties["r"]).Distinct().Count() > 1, "randomInt never changed");
        Assert.Equal(["a-0", "a-1", "a-2"], actions.MethodPayloads.Select(p => p!["to"]!.GetValue<string>()).Order().Distinct());
    }

    [Fact]
    public void Latency_is_measured_from_the_intended_moment_and_failures_by_hub_error()
    {
        var actions = new RecordingActions { FailMethodsWith = new HubServiceException(System.Net.HttpStatusCode.NotFound, "DeviceNotOnline", "offline") };
        var metrics = new FleetMetrics();
        // The calls complete 5 s after the run started (the runner fell behind): their latency includes that lateness.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Start + TimeSpan.FromSeconds(5));
        var load = new ServiceLoad(Parse(TwoGroups), actions, metrics, time);
        load.Tick(Start, TimeSpan.FromSeconds(1), [10, 10], paused: false);
        var method = metrics.Snapshot().Operations[ServiceLoad.MethodService];
        Assert.Equal(0, method.OkCount);
        Assert.Equal(21, method.FailuresByReason["DeviceNotOnline"]);

        // The C2D calls were due at 0, 0.2, ... 1.0 s after the start and all completed at 5 s: 4 s to 5 s late.
        var c2d = metrics.Snapshot().Operations[ServiceLoad.C2dSend];
        Assert.Equal(6, c2d.OkCount);
        Assert.InRange(c2d.Latency.MinMs(), 3_990, 4_010);
        Assert.InRange(c2d.Latency.MaxMs, 4_990, 5_010);
    }

    private sealed class RecordingActions : IServiceActions
    {
        public ConcurrentQueue<string> Methods { get; } = new();
        public ConcurrentQueue<string> C2d { get; } = new();
        public ConcurrentQueue<string> Desired { get; } = new();
        public ConcurrentQueue<JsonObject> DesiredPatches { get; } = new();
        public ConcurrentQueue<JsonNode?> MethodPayloads { get; } = new();
        public ConcurrentQueue<(string DeviceId, string Body, Dictionary<string, string?> Properties)> C2dMessages { get; } = new();
        public Exception? FailMethodsWith { get; init; }

        public Task<int> InvokeMethodAsync(string deviceId, string methodName, JsonNode? payload, TimeSpan responseTimeout, TimeSpan connectTimeout, CancellationToken ct)
        {
            Methods.Enqueue(deviceId);
            MethodPayloads.Enqueue(payload);
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
            C2dMessages.Enqueue((deviceId, System.Text.Encoding.UTF8.GetString(body), properties.ToDictionary(p => p.Key, p => p.Value)));
            return Task.CompletedTask;
        }
    }
}

internal static class LatencyExtensions
{
    public static double MinMs(this LatencyStats stats) => stats.Distribution.Count > 0 ? stats.Distribution[0].ValueMs : 0;
}
