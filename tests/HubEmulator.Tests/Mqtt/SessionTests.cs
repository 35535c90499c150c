using FleetSim.Protocol;
using MQTTnet;
using MQTTnet.Protocol;

namespace FleetSim.HubEmulator.Tests.Mqtt;

public sealed class SessionTests
{
    [Fact]
    public async Task A_new_connect_for_the_same_device_drops_the_old_connection()
    {
        await using var hub = await TestHub.StartAsync();
        var (device, first) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = first;

        using var second = new MqttClientFactory().CreateMqttClient();
        await second.ConnectAsync(hub.DeviceOptions("d1", hub.DeviceToken(device)));

        await TestHub.Eventually(() => !first.IsConnected, "the first connection is dropped");
        Assert.True(second.IsConnected);
        Assert.Equal(1, hub.Hub.Stats().DevicesConnected);
        Assert.Equal(1, hub.Hub.Stats().DisconnectsByReason["takenOver"]);
    }

    [Fact]
    public async Task Clean_session_0_keeps_subscriptions_across_reconnects_and_reports_session_present()
    {
        await using var hub = await TestHub.StartAsync();
        var (device, first) = await hub.ConnectNewDeviceAsync("d1");
        await first.SubscribeAsync(TwinTopics.DesiredSubscription, MqttQualityOfServiceLevel.AtMostOnce);
        await first.DisconnectAsync();
        first.Dispose();

        using var second = new MqttClientFactory().CreateMqttClient();
        var inbox = new DeviceInbox(second);
        var result = await second.ConnectAsync(hub.DeviceOptions("d1", hub.DeviceToken(device), cleanSession: false));
        Assert.True(result.IsSessionPresent);
        using var patch = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Patch, "twins/d1", """{"properties":{"desired":{"x":1}}}"""));

        await inbox.WaitForAsync(t => t == TwinTopics.DesiredPatch(2), "the desired patch without re-subscribing");
    }

    [Fact]
    public async Task Clean_session_1_forgets_subscriptions()
    {
        await using var hub = await TestHub.StartAsync();
        var (device, first) = await hub.ConnectNewDeviceAsync("d1", cleanSession: true);
        await first.SubscribeAsync(TwinTopics.DesiredSubscription, MqttQualityOfServiceLevel.AtMostOnce);
        await first.DisconnectAsync();
        first.Dispose();
        await TestHub.Eventually(() => !hub.Hub.Registry.Find("d1")!.IsConnected, "the hub has closed the clean session");

        using var second = new MqttClientFactory().CreateMqttClient();
        var result = await second.ConnectAsync(hub.DeviceOptions("d1", hub.DeviceToken(device), cleanSession: false));

        Assert.False(result.IsSessionPresent);
        await TestHub.Eventually(() => hub.Hub.Registry.Find("d1")!.IsConnected, "d1 is connected again");
        using var patch = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Patch, "twins/d1", """{"properties":{"desired":{"x":1}}}"""));
        Assert.Equal(0, hub.Hub.Stats().DesiredPushes);
    }
}
