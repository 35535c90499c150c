using FleetSim.HubEmulator.Mqtt;
using FleetSim.HubEmulator.Registry;
using FleetSim.Protocol;
using MQTTnet;
using MQTTnet.Formatter;

namespace FleetSim.HubEmulator.Tests.Mqtt;

public sealed class ConnectTests
{
    private const byte Accepted = 0;
    private const byte NotAuthorized = 5;

    [Fact]
    public async Task Device_with_a_valid_token_is_accepted_and_counted_as_connected()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;

        Assert.True(client.IsConnected);
        await TestHub.Eventually(() => hub.Hub.Registry.Find("d1")!.IsConnected, "the registry shows d1 connected");
        await TestHub.Eventually(() => hub.Hub.Stats().DevicesConnected == 1, "the hub counts one connected device");
        Assert.Equal(1, hub.Hub.Stats().ConnectsAccepted);
    }

    [Fact]
    public async Task Valid_token_gets_connack_0_on_the_wire()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");

        var code = await hub.RawConnectAsync("d1", MqttUsername.Build(hub.Hub.HostName, "d1"), hub.DeviceToken(device));

        Assert.Equal(Accepted, code);
    }

    [Fact]
    public async Task Bad_signature_gets_connack_5()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        var otherKey = Convert.ToBase64String(new byte[32]);

        var code = await hub.RawConnectAsync("d1", MqttUsername.Build(hub.Hub.HostName, "d1"), hub.DeviceToken(device, key: otherKey));

        Assert.Equal(NotAuthorized, code);
        Assert.Equal(1, hub.Hub.Stats().RefusedByReason["badSignature"]);
    }

    [Fact]
    public async Task Expired_token_gets_connack_5()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");

        var code = await hub.RawConnectAsync("d1", MqttUsername.Build(hub.Hub.HostName, "d1"), hub.DeviceToken(device, ttl: TimeSpan.FromSeconds(-5)));

        Assert.Equal(NotAuthorized, code);
        Assert.Equal(1, hub.Hub.Stats().RefusedByReason["tokenExpired"]);
    }

    [Fact]
    public async Task Unknown_device_gets_connack_5()
    {
        await using var hub = await TestHub.StartAsync();
        var token = SasToken.Create($"{hub.Hub.HostName}/devices/ghost", Convert.ToBase64String(new byte[32]), DateTimeOffset.UtcNow.AddHours(1));

        var code = await hub.RawConnectAsync("ghost", MqttUsername.Build(hub.Hub.HostName, "ghost"), token);

        Assert.Equal(NotAuthorized, code);
        Assert.Equal(1, hub.Hub.Stats().RefusedByReason["unknownDevice"]);
    }

    [Fact]
    public async Task Disabled_device_gets_connack_5()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        hub.Hub.Registry.Put(new DeviceSpec("d1", Enabled: false), ifMatch: "*");

        var code = await hub.RawConnectAsync("d1", MqttUsername.Build(hub.Hub.HostName, "d1"), hub.DeviceToken(device));

        Assert.Equal(NotAuthorized, code);
        Assert.Equal(1, hub.Hub.Stats().RefusedByReason["deviceDisabled"]); // refused for that reason, not any other
    }

    [Fact]
    public async Task Token_scoped_to_another_device_gets_connack_5()
    {
        await using var hub = await TestHub.StartAsync();
        var d1 = hub.Hub.Registry.Add("d1");
        hub.Hub.Registry.Add("d2");
        var tokenForD2SignedWithD1Key = SasToken.Create($"{hub.Hub.HostName}/devices/d2", d1.PrimaryKey!, DateTimeOffset.UtcNow.AddHours(1));

        var code = await hub.RawConnectAsync("d1", MqttUsername.Build(hub.Hub.HostName, "d1"), tokenForD2SignedWithD1Key);

        Assert.Equal(NotAuthorized, code);
        Assert.Equal(1, hub.Hub.Stats().RefusedByReason["wrongScope"]);
    }

    [Fact]
    public async Task Username_for_another_host_or_client_gets_connack_5()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        var token = hub.DeviceToken(device);

        Assert.Equal(NotAuthorized, await hub.RawConnectAsync("d1", "otherhub.azure-devices.net/d1/?api-version=2021-04-12", token));
        Assert.Equal(NotAuthorized, await hub.RawConnectAsync("d1", $"{hub.Hub.HostName}/d2/?api-version=2021-04-12", token));
        Assert.Equal(2, hub.Hub.Stats().RefusedByReason["badUsername"]);
    }

    [Fact]
    public async Task Username_parameters_in_any_order_and_none_are_accepted()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        var host = hub.Hub.HostName;

        Assert.Equal(Accepted, await hub.RawConnectAsync("d1", $"{host}/d1/?DeviceClientType=node%2F1.0&api-version=2019-10-01", hub.DeviceToken(device)));
        Assert.Equal(Accepted, await hub.RawConnectAsync("d1", $"{host}/d1", hub.DeviceToken(device)));
    }

    [Fact]
    public async Task Secondary_key_and_iothubowner_policy_tokens_are_accepted()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        var username = MqttUsername.Build(hub.Hub.HostName, "d1");
        var policyToken = SasToken.Create($"{hub.Hub.HostName}/devices/d1", hub.Service.SharedAccessKey, DateTimeOffset.UtcNow.AddHours(1), "iothubowner");

        Assert.Equal(Accepted, await hub.RawConnectAsync("d1", username, hub.DeviceToken(device, key: device.SecondaryKey)));
        Assert.Equal(Accepted, await hub.RawConnectAsync("d1", username, policyToken));
    }

    [Fact]
    public async Task Missing_password_gets_connack_5()
    {
        await using var hub = await TestHub.StartAsync();
        hub.Hub.Registry.Add("d1");

        var code = await hub.RawConnectAsync("d1", MqttUsername.Build(hub.Hub.HostName, "d1"), password: null);

        Assert.Equal(NotAuthorized, code);
    }

    [Fact]
    public async Task Mqtt_5_clients_are_refused()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        using var client = new MqttClientFactory().CreateMqttClient();

        var result = await client.ConnectAsync(hub.DeviceOptions("d1", hub.DeviceToken(device), version: MqttProtocolVersion.V500));

        Assert.Equal(MqttClientConnectResultCode.UnsupportedProtocolVersion, result.ResultCode);
        Assert.False(client.IsConnected);
        Assert.Equal(1, hub.Hub.Stats().RefusedByReason["unsupportedProtocol"]);
    }

    [Fact]
    public async Task Refused_connects_fault_answers_connack_3_until_it_ends()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        var username = MqttUsername.Build(hub.Hub.HostName, "d1");

        hub.Hub.Faults.RefuseConnects(TimeSpan.FromMinutes(5));
        Assert.Equal(3, await hub.RawConnectAsync("d1", username, hub.DeviceToken(device)));
        hub.Hub.Faults.Clear();
        Assert.Equal(Accepted, await hub.RawConnectAsync("d1", username, hub.DeviceToken(device)));
        Assert.Equal(1, hub.Hub.Faults.RefusedConnects);
        Assert.Equal(1, hub.Hub.Stats().RefusedByReason["serverUnavailable"]);
    }

    [Fact]
    public async Task Connection_is_closed_when_the_sas_token_expires()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(hub.DeviceOptions("d1", hub.DeviceToken(device, ttl: TimeSpan.FromSeconds(2))));
        Assert.True(client.IsConnected);

        await TestHub.Eventually(() => !client.IsConnected, "the hub closes the connection at token expiry");
        Assert.Equal(1, hub.Hub.Stats().DisconnectsByReason["sasTokenExpired"]);
    }

    [Fact]
    public async Task Silent_client_is_closed_after_its_keep_alive()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        using var tcp = new System.Net.Sockets.TcpClient();
        await using var tls = await hub.RawOpenAsync(tcp, "d1", MqttUsername.Build(hub.Hub.HostName, "d1"), hub.DeviceToken(device), keepAliveSeconds: 1);
        Assert.Equal(Accepted, await TestHub.ReadConnackAsync(tls));
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var read = await tls.ReadAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Equal(0, read); // the hub closed the connection: no PINGREQ within 1.5 x keep-alive
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1), $"closed after {watch.Elapsed}, before the keep-alive ran out");
        await TestHub.Eventually(() => hub.Hub.Stats().DisconnectsByReason.ContainsKey("connectionLost"), "the hub counts the lost connection");
    }
}
