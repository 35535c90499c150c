using FleetSim.Conformance.Tests.Harness;

namespace FleetSim.Conformance.Tests.Cases;

[Collection(ConformanceCollection.Name)]
public sealed class TelemetryTests(ConformanceFixture fixture)
{
    [Fact]
    public async Task Telemetry_with_system_and_application_properties_is_ingested_once_each_in_order()
    {
        var device = await fixture.NewDeviceAsync("telemetry");
        var before = await HubAssert.StatsAsync(fixture);

        var result = await RunAsync(device);

        result.AssertPassed();
        Assert.Equal(3, result.All("sent").Count());
        // Hub side: the fleetsim-seq application property was decoded from the bag: 3 ingested, none lost,
        // duplicated or out of order.
        await HubAssert.StatsChangedAsync(fixture, before,
            StatChange.Exactly("ingested", 3), StatChange.Exactly("lost", 0), StatChange.Exactly("duplicated", 0), StatChange.Exactly("outOfOrder", 0));
    }

    [Fact]
    public async Task Telemetry_properties_arrive_decoded_at_the_hub()
    {
        var device = await fixture.NewDeviceAsync("properties");

        var result = await RunAsync(device);

        result.AssertPassed();
        await HubAssert.LastTelemetryPropertiesAsync(fixture, device.Id, new Dictionary<string, string>
        {
            ["$.mid"] = "conformance-msg-3",
            ["$.cid"] = "conformance-corr-3",
            ["$.ct"] = "application/json",
            ["$.ce"] = "utf-8",
            ["fleetsim-seq"] = "3",
            ["color"] = "blue",
            ["needs encoding"] = "a/b=c&d e",
        });
    }

    private Task<ScriptResult> RunAsync(TestDevice device)
    {
        var env = fixture.Environment();
        env["FLEETSIM_DEVICE_CS"] = device.ConnectionString;
        env["FLEETSIM_MESSAGE_COUNT"] = "3";
        return fixture.RunAsync("telemetry.js", env, TimeSpan.FromSeconds(30));
    }
}
