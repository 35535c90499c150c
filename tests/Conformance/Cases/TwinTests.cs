using System.Text.Json.Nodes;
using FleetSim.Conformance.Tests.Harness;

namespace FleetSim.Conformance.Tests.Cases;

[Collection(ConformanceCollection.Name)]
public sealed class TwinTests(ConformanceFixture fixture)
{
    [Fact]
    public async Task Device_gets_its_twin_with_desired_and_reported_versions()
    {
        var device = await fixture.NewDeviceAsync("twinget");
        var env = fixture.Environment();
        env["FLEETSIM_DEVICE_CS"] = device.ConnectionString;

        var result = await fixture.RunAsync("twin-get.js", env, TimeSpan.FromSeconds(30));

        result.AssertPassed();
        var twin = result.Single("twin");
        // A new twin: both sections at version 1 and otherwise empty (PROTOCOL.md section 4).
        Assert.Equal(1, (int?)twin["desired"]?["$version"]);
        Assert.Equal(1, (int?)twin["reported"]?["$version"]);
        Assert.Single(twin["desired"]!.AsObject());
        Assert.Single(twin["reported"]!.AsObject());
    }

    [Fact]
    public async Task Reported_patch_shows_in_the_service_twin_with_version_and_metadata()
    {
        var device = await fixture.NewDeviceAsync("reported");
        var env = fixture.Environment();
        env["FLEETSIM_DEVICE_CS"] = device.ConnectionString;
        env["FLEETSIM_DEVICE_ID"] = device.Id;

        var result = await fixture.RunAsync("twin-reported.js", env, TimeSpan.FromSeconds(30));

        result.AssertPassed();
        // Hub side, read without the SDK: two patches on a new twin give reported $version 3.
        JsonObject twin = await fixture.Api.GetTwinAsync(device.Id);
        var reported = twin["properties"]!["reported"]!;
        Assert.Equal(3, (int?)reported["$version"]);
        Assert.Equal("1.2.3", (string?)reported["firmware"]?["version"]);
        Assert.Equal(22, (int?)reported["temperature"]);
        Assert.Null(reported["toRemove"]);
        Assert.NotNull(reported["$metadata"]?["temperature"]?["$lastUpdated"]);
        Assert.NotNull(reported["$metadata"]?["firmware"]?["version"]?["$lastUpdated"]);
        Assert.Null(reported["$metadata"]?["toRemove"]);
    }

    [Fact]
    public async Task Desired_update_from_the_service_raises_the_device_properties_desired_event()
    {
        var device = await fixture.NewDeviceAsync("desired");
        var env = fixture.Environment();
        env["FLEETSIM_DEVICE_CS"] = device.ConnectionString;
        env["FLEETSIM_DEVICE_ID"] = device.Id;

        var result = await fixture.RunAsync("twin-desired.js", env, TimeSpan.FromSeconds(30));

        result.AssertPassed();
        var received = result.Single("desiredReceived");
        Assert.Equal(42, (int?)received["patch"]?["setpoint"]);
        Assert.Equal(2, (int?)received["patch"]?["$version"]);
        JsonObject twin = await fixture.Api.GetTwinAsync(device.Id);
        Assert.Equal(2, (int?)twin["properties"]!["desired"]!["$version"]);
        Assert.Equal(2, (int?)twin["properties"]!["desired"]!["$metadata"]?["setpoint"]?["$lastUpdatedVersion"]);
    }
}
