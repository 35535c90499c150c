using FleetSim.HubEmulator.Certificates;
using FleetSim.HubEmulator.Registry;
using FleetSim.Protocol;
using MQTTnet;
using MQTTnet.Protocol;

namespace FleetSim.HubEmulator.Tests.Mqtt;

public sealed class TransportTests
{
    [Fact]
    public async Task Mqtt_over_websockets_connects_and_ingests_telemetry()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        using var client = new MqttClientFactory().CreateMqttClient();

        await client.ConnectAsync(hub.DeviceOptions("d1", hub.DeviceToken(device), webSocket: true));
        var ack = await client.PublishStringAsync(new DeviceTopics("d1").Telemetry("fleetsim-seq=1"), "{}", MqttQualityOfServiceLevel.AtLeastOnce);

        Assert.True(ack.IsSuccess);
        Assert.Equal(1, hub.Hub.Ingest.ForDevice("d1")!.Ingested);
    }

    [Fact]
    public async Task Websocket_connect_with_a_bad_token_is_refused()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        using var client = new MqttClientFactory().CreateMqttClient();

        var result = await client.ConnectAsync(hub.DeviceOptions("d1", hub.DeviceToken(device, key: Convert.ToBase64String(new byte[32])), webSocket: true));

        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, result.ResultCode);
        Assert.Equal(1, hub.Hub.Stats().RefusedByReason["badSignature"]);
    }

    [Fact]
    public async Task Self_signed_x509_device_connects_with_the_registered_thumbprint_only()
    {
        await using var hub = await TestHub.StartAsync();
        using var certificate = EmulatorCertificates.CreateSelfSignedDeviceCertificate("x1", TimeSpan.FromDays(1));
        using var other = EmulatorCertificates.CreateSelfSignedDeviceCertificate("x1", TimeSpan.FromDays(1));
        hub.Hub.Registry.Put(new DeviceSpec("x1", AuthenticationType: DeviceAuthenticationType.SelfSigned, PrimaryThumbprint: certificate.Thumbprint), null);

        using var good = new MqttClientFactory().CreateMqttClient();
        var accepted = await good.ConnectAsync(hub.DeviceOptions("x1", password: null, clientCertificate: certificate));
        using var bad = new MqttClientFactory().CreateMqttClient();
        var refused = await bad.ConnectAsync(hub.DeviceOptions("x1", password: null, clientCertificate: other));

        Assert.Equal(MqttClientConnectResultCode.Success, accepted.ResultCode);
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, refused.ResultCode);
        Assert.Equal(1, hub.Hub.Stats().RefusedByReason["certificateRejected"]); // the thumbprint, not something else
    }

    [Fact]
    public async Task Ca_signed_x509_device_connects_when_its_common_name_is_the_device_id()
    {
        await using var hub = await TestHub.StartAsync();
        using var certificate = hub.Hub.Certificates.CreateDeviceCertificate("x1", TimeSpan.FromDays(1));
        using var wrongName = hub.Hub.Certificates.CreateDeviceCertificate("x2", TimeSpan.FromDays(1));
        hub.Hub.Registry.Put(new DeviceSpec("x1", AuthenticationType: DeviceAuthenticationType.CertificateAuthority), null);

        using var good = new MqttClientFactory().CreateMqttClient();
        var accepted = await good.ConnectAsync(hub.DeviceOptions("x1", password: null, clientCertificate: certificate));
        using var bad = new MqttClientFactory().CreateMqttClient();
        var refused = await bad.ConnectAsync(hub.DeviceOptions("x1", password: null, clientCertificate: wrongName));

        Assert.Equal(MqttClientConnectResultCode.Success, accepted.ResultCode);
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, refused.ResultCode);
        Assert.Equal(1, hub.Hub.Stats().RefusedByReason["certificateRejected"]);
    }

    [Fact]
    public async Task Https_port_also_speaks_mqtt_for_a_host_name_with_that_port()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        var hostWithPort = $"localhost:{hub.Hub.HttpsPort}";
        var token = SasToken.Create($"{hostWithPort}/devices/d1", device.PrimaryKey!, DateTimeOffset.UtcNow.AddHours(1));
        var options = hub.DeviceOptions("d1", token);
        options.Credentials = new MqttClientCredentials(MqttUsername.Build(hostWithPort, "d1"), System.Text.Encoding.UTF8.GetBytes(token));
        options.ChannelOptions = new MqttClientTcpOptions
        {
            RemoteEndpoint = new System.Net.DnsEndPoint("localhost", hub.Hub.HttpsPort),
            TlsOptions = ((MqttClientTcpOptions)options.ChannelOptions).TlsOptions,
        };
        using var client = new MqttClientFactory().CreateMqttClient();

        var result = await client.ConnectAsync(options);
        var ack = await client.PublishStringAsync(new DeviceTopics("d1").Telemetry(null), "{}", MqttQualityOfServiceLevel.AtLeastOnce);
        using var http = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Get, "devices/d1"));

        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        Assert.True(ack.IsSuccess);
        Assert.Equal(System.Net.HttpStatusCode.OK, http.StatusCode);
    }
}
