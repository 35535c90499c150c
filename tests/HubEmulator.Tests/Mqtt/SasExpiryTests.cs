using FleetSim.Protocol;
using Microsoft.Extensions.Time.Testing;
using MQTTnet;

namespace FleetSim.HubEmulator.Tests.Mqtt;

/// <summary>SAS expiry in virtual time: the hub's clock is a FakeTimeProvider the test advances.</summary>
public sealed class SasExpiryTests
{
    [Fact]
    public async Task Connection_survives_expiry_within_the_grace_and_is_closed_at_expiry_plus_grace()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var hub = await TestHub.StartAsync(o =>
        {
            o.TimeProvider = clock;
            o.SasExpiryGrace = TimeSpan.FromSeconds(30);
        });
        var device = hub.Hub.Registry.Add("d1");
        var token = SasToken.Create($"{hub.Hub.HostName}/devices/d1", device.PrimaryKey!, clock.GetUtcNow().AddSeconds(60));
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(hub.DeviceOptions("d1", token));
        await TestHub.Eventually(() => hub.Hub.Registry.Find("d1")!.IsConnected, "d1 is connected");

        clock.Advance(TimeSpan.FromSeconds(89)); // expired 29 s ago, still within the grace
        Assert.True(client.IsConnected);
        Assert.False(hub.Hub.Stats().DisconnectsByReason.ContainsKey("sasTokenExpired"));

        clock.Advance(TimeSpan.FromSeconds(2));
        await TestHub.Eventually(() => !client.IsConnected, "the hub closes the connection at expiry + grace");
        Assert.Equal(1, hub.Hub.Stats().DisconnectsByReason["sasTokenExpired"]);
    }

    [Fact]
    public async Task Reconnecting_with_a_new_token_replaces_the_expiry_of_the_old_one()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var hub = await TestHub.StartAsync(o => o.TimeProvider = clock);
        var device = hub.Hub.Registry.Add("d1");
        using var first = new MqttClientFactory().CreateMqttClient();
        await first.ConnectAsync(hub.DeviceOptions("d1", SasToken.Create($"{hub.Hub.HostName}/devices/d1", device.PrimaryKey!, clock.GetUtcNow().AddSeconds(60))));
        await first.DisconnectAsync();
        await TestHub.Eventually(() => !hub.Hub.Registry.Find("d1")!.IsConnected, "the first connection is closed");
        using var renewed = new MqttClientFactory().CreateMqttClient();
        await renewed.ConnectAsync(hub.DeviceOptions("d1", SasToken.Create($"{hub.Hub.HostName}/devices/d1", device.PrimaryKey!, clock.GetUtcNow().AddHours(1))));
        await TestHub.Eventually(() => hub.Hub.Registry.Find("d1")!.IsConnected, "the renewed connection is up");

        clock.Advance(TimeSpan.FromMinutes(5)); // past the first token's expiry, well before the second's

        Assert.True(renewed.IsConnected);
        Assert.False(hub.Hub.Stats().DisconnectsByReason.ContainsKey("sasTokenExpired"));
    }

    [Fact]
    public async Task Token_expiry_on_connect_is_judged_by_the_hub_clock()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var hub = await TestHub.StartAsync(o => o.TimeProvider = clock);
        var device = hub.Hub.Registry.Add("d1");
        var token = hub.DeviceToken(device, ttl: TimeSpan.FromHours(1));

        clock.Advance(TimeSpan.FromHours(2));

        Assert.Equal(5, await hub.RawConnectAsync("d1", MqttUsername.Build(hub.Hub.HostName, "d1"), token));
        Assert.Equal(1, hub.Hub.Stats().RefusedByReason["tokenExpired"]);
    }
}
