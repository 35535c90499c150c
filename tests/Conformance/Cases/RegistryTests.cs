using System.Text.Json.Nodes;
using FleetSim.Conformance.Tests.Harness;

namespace FleetSim.Conformance.Tests.Cases;

[Collection(ConformanceCollection.Name)]
public sealed class RegistryTests(ConformanceFixture fixture)
{
    [Fact]
    public async Task Azure_iothub_Registry_creates_a_device_with_generated_keys_and_reads_it_back()
    {
        var deviceId = $"conf-registry-{Guid.NewGuid().ToString("N")[..8]}";
        var env = fixture.Environment();
        env["FLEETSIM_DEVICE_ID"] = deviceId;

        var result = await fixture.RunAsync("registry.js", env, TimeSpan.FromSeconds(30));

        result.AssertPassed();
        var created = result.Single("created");
        Assert.Equal(deviceId, (string?)created["deviceId"]);
        Assert.Equal("enabled", (string?)created["status"]);
        Assert.True((bool?)created["hasPrimaryKey"] == true && (bool?)created["hasSecondaryKey"] == true, result.Describe());
        Assert.False(string.IsNullOrEmpty((string?)created["etag"]), result.Describe());
        Assert.True((bool?)result.Single("got")["sameKeys"], result.Describe());
        var unknown = result.Single("unknownRejected");
        Assert.Equal(404, (int?)unknown["statusCode"]);
        Assert.Equal("DeviceNotFound", (string?)unknown["iothubErrorCode"]);

        // Hub side: the identity is in the emulator's registry.
        JsonObject device = await fixture.Api.GetDeviceAsync(deviceId);
        Assert.Equal(deviceId, (string?)device["deviceId"]);
    }
}
