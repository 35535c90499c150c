using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Running;

namespace FleetSim.Scenarios.Tests.Parsing;

/// <summary>operationTimeout: how long a group's devices wait for the hub's answer, down to every device's options.</summary>
public sealed class OperationTimeoutTests
{
    private static readonly DeviceEndpoint Endpoint = new("h", "h", 8883, 443, null);

    [Fact]
    public void A_groups_operation_timeout_reaches_its_devices()
    {
        var scenario = Loads.Ok("name: t\ndeviceGroups:\n  - {name: a, count: 1, idPrefix: a-, operationTimeout: 15s}\n  - {name: b, count: 1, idPrefix: b-}\nduration: 1s\n");

        Assert.Equal(TimeSpan.FromSeconds(15), scenario.DeviceGroups[0].OperationTimeout);
        Assert.Equal(DeviceGroup.DefaultOperationTimeout, scenario.DeviceGroups[1].OperationTimeout);
        var plan = FleetPlanBuilder.Build(scenario, Endpoint, [new GroupCredentials(["a2V5"], null), new GroupCredentials(["a2V5"], null)]);
        Assert.Equal(TimeSpan.FromSeconds(15), plan.Groups[0].Options.OperationTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), plan.Groups[1].Options.OperationTimeout); // the device's own default
    }

    [Theory]
    [InlineData("0s")]
    [InlineData("11m")]
    [InlineData("soon")]
    public void A_timeout_out_of_range_or_no_duration_is_an_error_at_its_position(string value)
    {
        var error = Loads.One($"name: t\ndeviceGroups:\n  - name: a\n    count: 1\n    operationTimeout: {value}\nduration: 1s\n");

        Assert.Equal(5, error.Line);
        Assert.Equal(23, error.Column); // at the value
    }

    [Fact]
    public void The_reconnect_soak_notices_a_blackhole_well_within_its_recovery_threshold()
    {
        var scenario = Loads.Ok(File.ReadAllText(Path.Combine(Loads.ScenariosFolder, "reconnect-soak.yaml")));

        Assert.True(scenario.DeviceGroups[0].OperationTimeout < TimeSpan.FromSeconds(30) / 1.5,
            "a blackholed device recovers after its operation timeout; the scenario's threshold is recovery p99 < 30s");
    }
}
