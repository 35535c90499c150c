using FleetSim.Reporting;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Running;

namespace FleetSim.Scenarios.Tests.Parsing;

/// <summary>The fault language: the new kinds, repetition (every/until) and targeting (group/ids), and the schedule that fires them.</summary>
public sealed class FaultParsingTests
{
    private const string Fleet = """
        name: f
        duration: 3m
        deviceGroups:
          - {name: sensors, count: 4, idPattern: 's-{index}'}
          - {name: gateways, count: 2, idPattern: 'g-{index}'}

        """;

    private static IReadOnlyList<FaultSpec> Faults(string faults) =>
        Assert.IsType<EmbeddedHub>(Loads.Ok(Fleet + "hub:\n  embedded:\n    faults:\n" + faults).Hub).Options.Faults;

    [Fact]
    public void The_new_kinds_parse_with_their_values()
    {
        var faults = Faults("""
                  - {at: 10s, hubRestart: {for: 30s}}
                  - {at: 20s, blackhole: {fraction: 0.25, for: 1m}}
                  - {at: 30s, expireTokens: {}}
                  - {at: 40s, latency: {by: 300ms, jitter: 100ms, for: 20s}}
            """);

        Assert.Equal(new HubRestartFault(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)), faults[0]);
        Assert.Equal(new BlackholeFault(TimeSpan.FromSeconds(20), 0.25, TimeSpan.FromMinutes(1)), faults[1]);
        Assert.Equal(new ExpireTokensFault(TimeSpan.FromSeconds(30), 1.0), faults[2]);
        Assert.Equal(new LatencyFault(TimeSpan.FromSeconds(40), TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(20)), faults[3]);
    }

    [Fact]
    public void Repetition_and_targets_parse_on_any_kind()
    {
        var faults = Faults("""
                  - {at: 20s, every: 20s, until: 1m, group: sensors, dropConnections: {fraction: 0.1}}
                  - {at: 5s, ids: ['g-*', s-1], refuseConnects: {for: 1s}}
            """);

        Assert.Equal((TimeSpan.FromSeconds(20), TimeSpan.FromMinutes(1)), (faults[0].Every, faults[0].Until));
        Assert.Equal("sensors", faults[0].Target!.Group);
        Assert.Equal(["g-*", "s-1"], faults[1].Target!.Ids);
    }

    [Theory]
    [InlineData("{at: 1s, group: nope, hubRestart: {for: 1s}}", "group 'nope', which is not defined")]
    [InlineData("{at: 1s, until: 1m, hubRestart: {for: 1s}}", "'until' needs 'every'")]
    [InlineData("{at: 30s, every: 5s, until: 10s, hubRestart: {for: 1s}}", "until (10s) is before at (30s)")]
    [InlineData("{at: 1s, latency: {by: 100ms, jitter: 200ms, for: 1s}}", "jitter (200ms) is larger than by (100ms)")]
    [InlineData("{at: 1s, group: sensors, ids: 's-*', expireTokens: {}}", "'group' and 'ids' cannot be used together")]
    [InlineData("{at: 1s, group: sensors, dropConnections: {deviceId: s-1}}", "deviceId cannot be combined with group or ids")]
    [InlineData("{at: 1s, blackhole: {fraction: 0.5}}", "for")]
    public void Bad_faults_are_errors_at_their_place(string fault, string expected)
    {
        var error = Assert.Single(Loads.Errors(Fleet + "hub:\n  embedded:\n    faults:\n      - " + fault + "\n"));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.True(error.Line >= 9, error.ToString());
    }

    [Fact]
    public async Task A_repeating_fault_fires_once_per_occurrence_with_its_group_resolved_to_ids()
    {
        var scenario = Loads.Ok(Fleet + """
            hub:
              embedded:
                faults:
                  - {at: 10s, every: 20s, until: 50s, group: gateways, blackhole: {fraction: 1, for: 5s}}
                  - {at: 15s, dropConnections: {}}
            """);
        var injection = new RecordingInjection();
        var schedule = new FaultSchedule(((EmbeddedHub)scenario.Hub).Options.Faults, injection, scenario.GroupDeviceIds);

        for (var t = TimeSpan.Zero; t <= TimeSpan.FromMinutes(1); t += TimeSpan.FromSeconds(1))
            schedule.Tick(t, DateTimeOffset.UnixEpoch + t);
        var records = await schedule.DescribeAsync();

        Assert.Equal([10, 15, 30, 50], records.Select(r => r.AtSeconds));
        Assert.Equal(["blackhole", "drop", "blackhole", "blackhole"], records.Select(r => r.Kind));
        Assert.Equal([15.0, null, 35.0, 55.0], records.Select(r => r.EndSeconds));
        Assert.Equal(["g-0", "g-1"], injection.Targets[0]);
        Assert.Null(injection.Targets[1]);
        Assert.Equal(2, records[0].Affected);
        Assert.Equal(["g-0", "g-1"], records[0].AffectedDeviceIds);
    }

    [Fact]
    public async Task A_fault_that_fails_is_recorded_as_failed_with_its_kind()
    {
        var schedule = new FaultSchedule([new HubRestartFault(TimeSpan.Zero, TimeSpan.FromSeconds(1))], new RecordingInjection { Fail = true });
        schedule.Tick(TimeSpan.Zero, DateTimeOffset.UnixEpoch);

        var record = Assert.Single(await schedule.DescribeAsync());
        Assert.False(record.Applied);
        Assert.Equal("hub-restart", record.Kind);
        Assert.StartsWith("failed: ", record.Description, StringComparison.Ordinal);
    }

    private sealed class RecordingInjection : IFaultInjection
    {
        public bool Fail { get; init; }

        public List<IReadOnlyList<string>?> Targets { get; } = [];

        public Task<AppliedFault> ApplyAsync(FaultSpec fault, IReadOnlyList<string>? target)
        {
            if (Fail)
                return Task.FromException<AppliedFault>(new InvalidOperationException("hub gone"));
            Targets.Add(target);
            var period = fault switch { BlackholeFault b => b.For, HubRestartFault h => h.For, _ => (TimeSpan?)null };
            return Task.FromResult(new AppliedFault(FaultSchedule.KindOf(fault), "done", period, target ?? []));
        }
    }
}
