using FleetSim.Conformance.Tests.Harness;

namespace FleetSim.Conformance.Tests.Cases;

[Collection(ConformanceCollection.Name)]
public sealed class ReadmeExampleTests(ConformanceFixture fixture)
{
    [Fact]
    public async Task The_readme_example_registers_a_device_sends_telemetry_and_reports_a_property_from_the_state_file()
    {
        // The README's device.js reads the state file `fleetsim hub` wrote; it adds GatewayHostName itself when MQTT
        // is not on 8883, and its HTTPS goes to 443 (mapped to the free HTTPS port here, see lib/port-map.js).
        var env = fixture.Environment();
        var before = await HubAssert.StatsAsync(fixture);

        var result = await fixture.RunAsync("readme-device.js", env, TimeSpan.FromSeconds(30), fixture.Hub.StateFile);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Contains("telemetry sent; the service sees reported firmware 1.0.0 ($version 2)", result.Describe());
        await HubAssert.StatsChangedAsync(fixture, before,
            StatChange.Exactly("devicesRegistered", 1), StatChange.Exactly("ingested", 1), StatChange.Exactly("twin.reportedPatches", 1));
    }
}
