using FleetSim.DeviceActors;
using FleetSim.Scenarios.Running;

namespace FleetSim.Scenarios.Tests.Parsing;

/// <summary>connectsInFlight: the per-process limit on connects in flight, shared by every group of the plan.</summary>
public sealed class ConnectsInFlightTests
{
    private static readonly DeviceEndpoint Endpoint = new("h", "h", 8883, 443, null);

    [Fact]
    public void Every_group_of_a_plan_shares_one_limit_of_the_asked_size()
    {
        var scenario = Loads.Ok("name: t\nconnectsInFlight: 7\ndeviceGroups:\n  - {name: a, count: 1, idPrefix: a-}\n  - {name: b, count: 1, idPrefix: b-}\nduration: 1s\n");
        Assert.Equal(7, scenario.ConnectsInFlight);

        var plan = FleetPlanBuilder.Build(scenario, Endpoint, [new GroupCredentials(["a2V5"], null), new GroupCredentials(["a2V5"], null)]);
        var slots = plan.Groups[0].Options.ConnectSlots;
        Assert.NotNull(slots);
        Assert.Equal(7, slots.Limit);
        Assert.Same(slots, plan.Groups[1].Options.ConnectSlots);
    }

    [Fact]
    public void Without_the_key_the_limit_is_the_default_per_core()
    {
        var scenario = Loads.Ok("name: t\ndevices: {count: 1}\nduration: 1s\n");
        Assert.Null(scenario.ConnectsInFlight);

        var plan = FleetPlanBuilder.Build(scenario, Endpoint, [new GroupCredentials(["a2V5"], null)]);
        Assert.Equal(ConnectSlots.DefaultPerCore * Environment.ProcessorCount, plan.Groups[0].Options.ConnectSlots!.Limit);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("many")]
    [InlineData("2.5")]
    public void A_limit_that_is_not_a_positive_count_is_an_error_at_its_position(string value)
    {
        var error = Loads.One($"name: t\nconnectsInFlight: {value}\ndevices: {{count: 1}}\nduration: 1s\n");

        Assert.Equal(2, error.Line);
        Assert.Equal(19, error.Column); // at the value
    }
}
