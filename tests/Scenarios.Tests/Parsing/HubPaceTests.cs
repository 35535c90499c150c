using FleetSim.Scenarios.Model;

namespace FleetSim.Scenarios.Tests.Parsing;

/// <summary>hub.pace: on by default, false for either kind of hub, and an error for anything but a boolean.</summary>
public sealed class HubPaceTests
{
    [Fact]
    public void Pacing_is_on_unless_the_hub_says_pace_false()
    {
        Assert.True(Loads.Ok("name: t\nhub: {embedded: {tier: S1}}\ndevices: {count: 1}\nduration: 1s\n").Hub.Pace);
        Assert.True(Loads.Ok("name: t\ndevices: {count: 1}\nduration: 1s\n").Hub.Pace);
        Assert.False(Loads.Ok("name: t\nhub: {embedded: {tier: S1}, pace: false}\ndevices: {count: 1}\nduration: 1s\n").Hub.Pace);
        var external = Loads.Ok("name: t\nhub: {connectionString: \"${FLEETSIM_TEST_HUB}\", tier: S1, pace: false}\ndevices: {count: 1}\nduration: 1s\n");
        Assert.False(Assert.IsType<ConnectionStringHub>(external.Hub).Pace);
        Assert.Equal("S1", ((ConnectionStringHub)external.Hub).Tier!.Name);
    }

    [Fact]
    public void A_pace_that_is_not_a_boolean_is_an_error_at_its_position()
    {
        var error = Loads.One("name: t\nhub: {embedded: {tier: S1}, pace: sometimes}\ndevices: {count: 1}\nduration: 1s\n");

        Assert.Equal(2, error.Line);
        Assert.Contains("sometimes", error.Message);
    }
}
