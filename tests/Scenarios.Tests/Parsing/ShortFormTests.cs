using FleetSim.Scenarios.Model;

namespace FleetSim.Scenarios.Tests.Parsing;

public sealed class ShortFormTests
{
    [Fact]
    public void Short_form_becomes_one_group_with_a_ramp_at_the_connect_rate_and_a_hold()
    {
        var scenario = Loads.Ok("""
            name: skeleton
            devices: {count: 100, idPrefix: dev-, connectRate: 20}
            duration: 30s
            telemetry: {interval: 2s, payload: '{"t": "{{randomInt 1 9}}"}'}
            """);
        var group = Assert.Single(scenario.DeviceGroups);
        Assert.Equal("devices", group.Name);
        Assert.Equal("dev-0", group.DeviceId(0));
        Assert.Equal("dev-99", group.DeviceId(99));
        Assert.Equal(TimeSpan.FromSeconds(2), group.Telemetry!.Interval);
        Assert.Equal([new RampPhase(100, TimeSpan.FromSeconds(5), null), new HoldPhase(TimeSpan.FromSeconds(25), null)], scenario.Load);
        Assert.Equal(TimeSpan.FromSeconds(30), scenario.Duration);
        Assert.Equal(CredentialKind.SymmetricKey, group.Credential);
    }

    [Fact]
    public void Short_form_without_connect_rate_connects_everything_at_once()
    {
        var scenario = Loads.Ok(Loads.Minimal);
        Assert.Equal(new RampPhase(10, TimeSpan.Zero, null), scenario.Load[0]);
        Assert.Null(scenario.DeviceGroups[0].Telemetry);
        Assert.Equal("device-3", scenario.DeviceGroups[0].DeviceId(3));
    }

    [Fact]
    public void A_connect_rate_slower_than_the_duration_ramps_for_the_whole_run()
    {
        var scenario = Loads.Ok("name: slow\ndevices: {count: 100, connectRate: 1}\nduration: 10s\n");
        Assert.Equal(new RampPhase(100, TimeSpan.FromSeconds(10), null), scenario.Load[0]);
        Assert.Equal(TimeSpan.Zero, scenario.Load[1].Duration);
    }

    [Fact]
    public void Short_form_and_device_groups_cannot_be_mixed()
    {
        var errors = Loads.Errors("""
            name: mixed
            devices: {count: 1}
            deviceGroups:
              - {name: a, count: 1}
            duration: 1s
            """);
        Assert.Contains(errors, e => e.Line == 2 && e.Column == 1 && e.Message.Contains("short form", StringComparison.Ordinal));
    }

    [Fact]
    public void Connect_rate_with_load_phases_is_an_error_because_it_would_be_ignored()
    {
        var error = Loads.One("""
            name: x
            devices: {count: 10, connectRate: 5}
            load:
              - ramp: {to: 10, over: 2s}
            """);
        Assert.Contains("connectRate", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, error.Line);
    }

    [Fact]
    public void Hub_defaults_to_the_embedded_emulator_and_seed_to_1()
    {
        var scenario = Loads.Ok(Loads.Minimal);
        Assert.Same(EmbeddedHub.Default, scenario.Hub);
        Assert.Equal(1, scenario.Seed);
    }
}
