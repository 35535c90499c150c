using FleetSim.Conformance.Tests.Harness;

namespace FleetSim.Conformance.Tests.Cases;

[Collection(ConformanceCollection.Name)]
public sealed class C2dTests(ConformanceFixture fixture)
{
    [Fact]
    public async Task C2d_sent_through_the_emulator_extension_is_received_with_its_properties_and_completed()
    {
        var device = await fixture.NewDeviceAsync("c2d");
        var env = fixture.Environment();
        env["FLEETSIM_DEVICE_CS"] = device.ConnectionString;
        env["FLEETSIM_DEVICE_ID"] = device.Id;
        var before = await HubAssert.StatsAsync(fixture);

        var result = await fixture.RunAsync("c2d.js", env, TimeSpan.FromSeconds(30), "online");

        result.AssertPassed();
        var received = result.Single("received");
        Assert.Equal("conformance-c2d-1", (string?)received["messageId"]);
        Assert.Equal("application/json", (string?)received["contentType"]);
        Assert.Equal("high", (string?)received["properties"]?["priority"]);
        Assert.Equal("a/b c", (string?)received["properties"]?["path"]);
        // Hub side: delivered once and completed by the device's PUBACK.
        await HubAssert.StatsChangedAsync(fixture, before, StatChange.Exactly("c2d.delivered", 1), StatChange.Exactly("c2d.completed", 1));
    }

    [Fact]
    public async Task C2d_sent_while_the_device_is_offline_arrives_when_it_connects_again()
    {
        var device = await fixture.NewDeviceAsync("c2doffline");
        var env = fixture.Environment();
        env["FLEETSIM_DEVICE_CS"] = device.ConnectionString;
        env["FLEETSIM_DEVICE_ID"] = device.Id;
        var before = await HubAssert.StatsAsync(fixture);

        var result = await fixture.RunAsync("c2d.js", env, TimeSpan.FromSeconds(30), "offline");

        result.AssertPassed();
        var sentAt = (long)result.Single("sent")["atMs"]!;
        var receivedAt = (long)result.Single("received")["atMs"]!;
        Assert.True(receivedAt > sentAt && (long)result.Single("disconnected")["atMs"]! < sentAt, result.Describe());
        Assert.Equal("conformance-c2d-1", (string?)result.Single("received")["messageId"]);
        await HubAssert.StatsChangedAsync(fixture, before, StatChange.Exactly("c2d.delivered", 1), StatChange.Exactly("c2d.completed", 1));
    }
}
