using FleetSim.Conformance.Tests.Harness;

namespace FleetSim.Conformance.Tests.Cases;

[Collection(ConformanceCollection.Name)]
public sealed class TelemetryTests(ConformanceFixture fixture)
{
    [Fact]
    public async Task Telemetry_with_system_and_application_properties_is_ingested_as_sent()
    {
        var device = await fixture.NewDeviceAsync("telemetry");
        var env = fixture.Environment();
        env["FLEETSIM_DEVICE_CS"] = device.ConnectionString;
        env["FLEETSIM_MESSAGE_COUNT"] = "3";

        var result = await fixture.RunAsync("telemetry.js", env, TimeSpan.FromSeconds(30));

        result.AssertPassed();
        Assert.Equal(3, result.All("sent").Count());
        // Hub side: every message counted once, in order, from the fleetsim-seq application property.
        await HubAssert.IngestedAsync(fixture, device.Id, ingested: 3, highestSequence: 3);
        await HubAssert.LastMessagePropertiesAsync(fixture, device.Id, new Dictionary<string, string>
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
}
