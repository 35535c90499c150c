using FleetSim.Conformance.Tests.Harness;

namespace FleetSim.Conformance.Tests.Cases;

[Collection(ConformanceCollection.Name)]
public sealed class WebSocketTests(ConformanceFixture fixture)
{
    [Fact]
    public async Task MqttWs_connects_over_secure_websockets_sends_telemetry_and_gets_the_twin()
    {
        var device = await fixture.NewDeviceAsync("websocket");
        var env = fixture.Environment();
        env["FLEETSIM_DEVICE_CS"] = device.ConnectionStringWithoutGateway;
        var before = await HubAssert.StatsAsync(fixture);

        var result = await fixture.RunAsync("websockets.js", env, TimeSpan.FromSeconds(30));

        result.AssertPassed();
        Assert.Equal(1, (int?)result.Single("twin")["desiredVersion"]);
        await HubAssert.StatsChangedAsync(fixture, before, StatChange.Exactly("connectsAccepted", 1), StatChange.Exactly("ingested", 1), StatChange.Exactly("lost", 0));
    }
}
