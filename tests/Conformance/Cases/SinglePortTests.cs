using FleetSim.Conformance.Tests.Harness;

namespace FleetSim.Conformance.Tests.Cases;

[Collection(ConformanceCollection.Name)]
public sealed class SinglePortTests(ConformanceFixture fixture)
{
    [Fact]
    public async Task HostName_with_the_https_port_carries_mqtt_telemetry_and_twin_on_that_one_port()
    {
        var device = await fixture.NewDeviceAsync("singleport");
        var env = fixture.Environment();
        env["FLEETSIM_DEVICE_CS"] = device.ConnectionStringSinglePort; // no GatewayHostName: mqtts://localhost:{httpsPort}
        env["FLEETSIM_MESSAGE_COUNT"] = "2";
        var before = await HubAssert.StatsAsync(fixture);

        var telemetry = await fixture.RunAsync("telemetry.js", env, TimeSpan.FromSeconds(30));
        var twin = await fixture.RunAsync("twin-get.js", env, TimeSpan.FromSeconds(30));

        telemetry.AssertPassed();
        twin.AssertPassed();
        Assert.Equal(1, (int?)twin.Single("twin")["desired"]?["$version"]);
        await HubAssert.StatsChangedAsync(fixture, before,
            StatChange.Exactly("connectsAccepted", 2), StatChange.Exactly("ingested", 2), StatChange.Exactly("lost", 0));
        await HubAssert.LastTelemetryPropertiesAsync(fixture, device.Id, new Dictionary<string, string> { ["fleetsim-seq"] = "2" });
    }
}
