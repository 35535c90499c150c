using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Certificates;
using FleetSim.HubEmulator.Partitioning;
using FleetSim.Protocol;
using MQTTnet;
using MQTTnet.Protocol;

namespace FleetSim.HubEmulator.Tests.Partitioning;

/// <summary>
/// The front of a partitioned hub over two real partitions (emulators on 127.0.0.10 and 127.0.0.11 sharing certificates
/// and key, as the partition processes do): real HTTPS through the front, real MQTT/TLS straight to each partition.
/// </summary>
public sealed class HubFrontTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-front-").FullName;
    private readonly string _key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private readonly List<IoTHubEmulator> _partitions = [];
    private EmulatorCertificates _certificates = null!;
    private HubFront _front = null!;
    private HttpClient _http = null!;
    private ServiceConnectionString _service = null!;

    public async Task InitializeAsync()
    {
        _certificates = EmulatorCertificates.Create("localhost", TimeProvider.System, PartitionAddresses.All(2));
        var file = Path.Combine(_dir, "certificates.p12");
        _certificates.Export(file);
        for (var k = 0; k < 2; k++)
        {
            _partitions.Add(await IoTHubEmulator.StartAsync(new HubEmulatorOptions
            {
                BindAddress = PartitionAddresses.Of(k), MqttPort = 0, HttpsPort = 0, ServiceKey = _key, CertificatesFile = file,
                DataDirectory = Path.Combine(_dir, $"p{k}"),
            }));
        }

        _front = await HubFront.StartAsync(new HubFrontOptions
        {
            HttpsPort = 0, ServiceKey = _key, Certificates = _certificates,
            Partitions = [.. _partitions.Select((p, k) => new UriBuilder("https", PartitionAddresses.Of(k).ToString(), p.HttpsPort).Uri)],
        });
        _service = ServiceConnectionString.Parse($"HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey={_key}");
        var handler = new SocketsHttpHandler { SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = Trusted } };
        _http = new HttpClient(handler) { BaseAddress = new Uri($"https://localhost:{_front.HttpsPort}/") };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _front.DisposeAsync();
        foreach (var p in _partitions)
            await p.DisposeAsync();
        _certificates.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json = null, bool authorized = true)
    {
        using var request = new HttpRequestMessage(method, path + (path.Contains('?') ? "&" : "?") + "api-version=2021-04-12");
        if (authorized)
            request.Headers.TryAddWithoutValidation("Authorization", _service.CreateSasToken(TimeSpan.FromHours(1), DateTimeOffset.UtcNow));
        if (json is not null)
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return await _http.SendAsync(request);
    }

    private async Task<JsonNode> JsonAsync(HttpMethod method, string path, string? json = null)
    {
        using var response = await SendAsync(method, path, json);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    private static string[] Ids(int n) => [.. Enumerable.Range(0, n).Select(static i => $"front-{i:D3}")];

    private IoTHubEmulator Owner(string id) => _partitions[HubPartitions.PartitionOf(id, 2)];

    private IoTHubEmulator Other(string id) => _partitions[1 - HubPartitions.PartitionOf(id, 2)];

    [Fact]
    public async Task Registry_twin_method_and_c2d_requests_reach_the_owning_partition_only()
    {
        var ids = Ids(16);
        foreach (var id in ids)
            await JsonAsync(HttpMethod.Put, $"/devices/{id}", $$"""{"deviceId": "{{id}}"}""");

        Assert.All(ids, id => Assert.NotNull(Owner(id).Registry.Find(id)));
        Assert.All(ids, id => Assert.Null(Other(id).Registry.Find(id)));
        Assert.All(_partitions, p => Assert.InRange(p.Registry.Count, 1, 15)); // both partitions own some of them

        var device = ids[0];
        Assert.Equal(device, (await JsonAsync(HttpMethod.Get, $"/devices/{device}"))["deviceId"]!.GetValue<string>());
        var patched = await JsonAsync(HttpMethod.Patch, $"/twins/{device}", """{"properties": {"desired": {"mode": "eco"}}}""");
        Assert.Equal("eco", patched["properties"]!["desired"]!["mode"]!.GetValue<string>());
        Assert.Equal("eco", (await JsonAsync(HttpMethod.Get, $"/twins/{device}"))["properties"]!["desired"]!["mode"]!.GetValue<string>());

        // C2D to a registered device: queued by its partition (the other would answer DeviceNotFound).
        using (var c2d = await SendAsync(HttpMethod.Post, $"/devices/{device}/messages/deviceBound", "\"hello\""))
            Assert.Equal(HttpStatusCode.NoContent, c2d.StatusCode);

        // A direct method reaches the device connected to its own partition, and its answer comes back through the front.
        using var client = await ConnectAsync(device);
        client.ApplicationMessageReceivedAsync += e =>
        {
            var topic = e.ApplicationMessage.Topic;
            if (topic.StartsWith("$iothub/methods/POST/", StringComparison.Ordinal))
            {
                var rid = topic[(topic.IndexOf("$rid=", StringComparison.Ordinal) + 5)..];
                _ = client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"$iothub/methods/res/200/?$rid={rid}").WithPayload("""{"done":true}""").Build());
            }

            return Task.CompletedTask;
        };
        await client.SubscribeAsync("$iothub/methods/POST/#", MqttQualityOfServiceLevel.AtMostOnce);
        var answer = await JsonAsync(HttpMethod.Post, $"/twins/{device}/methods", """{"methodName": "reset", "responseTimeoutInSeconds": 10, "payload": {}}""");
        Assert.Equal(200, answer["status"]!.GetValue<int>());
        Assert.True(answer["payload"]!["done"]!.GetValue<bool>());

        // Deleting through the front removes the device from its partition.
        using (var delete = await SendAsync(HttpMethod.Delete, $"/devices/{ids[1]}"))
            Assert.True(delete.IsSuccessStatusCode, $"{(int)delete.StatusCode}");
        Assert.Null(Owner(ids[1]).Registry.Find(ids[1]));
    }

    [Fact]
    public async Task Stats_and_faults_fan_out_and_their_counts_are_summed_over_partitions()
    {
        var ids = Ids(6);
        foreach (var id in ids)
            await JsonAsync(HttpMethod.Put, $"/devices/{id}", $$"""{"deviceId": "{{id}}"}""");
        var clients = new List<IMqttClient>();
        try
        {
            foreach (var id in ids)
                clients.Add(await ConnectAsync(id));
            for (var i = 0; i < ids.Length; i++)
            {
                await clients[i].PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"devices/{ids[i]}/messages/events/fleetsim-seq=1")
                    .WithPayload("x").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
            }

            var stats = await JsonAsync(HttpMethod.Get, "/fleetsim/stats");
            Assert.Equal(6, stats["devicesRegistered"]!.GetValue<long>());
            Assert.Equal(6, stats["devicesConnected"]!.GetValue<long>());
            Assert.Equal(6, stats["ingested"]!.GetValue<long>());
            Assert.Equal(_partitions.Sum(p => p.Stats().Ingested), stats["ingested"]!.GetValue<long>());
            Assert.All(_partitions, p => Assert.True(p.Stats().ConnectsAccepted > 0, "every partition served some devices"));

            // A fault naming a device goes to its partition; one without drops that fraction on every partition.
            Assert.Equal(1, (await JsonAsync(HttpMethod.Post, "/fleetsim/faults/drop", $$"""{"deviceId": "{{ids[0]}}"}"""))["dropped"]!.GetValue<long>());
            Assert.Equal(5, (await JsonAsync(HttpMethod.Post, "/fleetsim/faults/drop", "{}"))["dropped"]!.GetValue<long>());
        }
        finally
        {
            foreach (var c in clients)
                c.Dispose();
        }
    }

    [Fact]
    public async Task The_front_checks_the_service_token_and_names_a_partition_it_cannot_reach()
    {
        using (var denied = await SendAsync(HttpMethod.Get, "/fleetsim/stats", authorized: false))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
            Assert.Equal(0, _partitions.Sum(p => p.Stats().DevicesRegistered));
        }

        var id = Ids(1)[0];
        var owner = HubPartitions.PartitionOf(id, 2);
        await _partitions[owner].DisposeAsync();
        using var response = await SendAsync(HttpMethod.Get, $"/devices/{id}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains($"hub partition {owner}", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>Connects a registered device over MQTT/TLS straight to its partition's address, as the device side does.</summary>
    private async Task<IMqttClient> ConnectAsync(string id)
    {
        var k = HubPartitions.PartitionOf(id, 2);
        var key = _partitions[k].Registry.Find(id)!.Identity.PrimaryKey!;
        var token = SasToken.Create($"localhost/devices/{id}", key, DateTimeOffset.UtcNow.AddHours(1));
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithClientId(id)
            .WithCredentials(MqttUsername.Build("localhost", id), token)
            .WithCleanSession(false)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V311)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithTcpServer(PartitionAddresses.Of(k).ToString(), _partitions[k].MqttPort)
            .WithTlsOptions(tls => tls.UseTls().WithTargetHost(PartitionAddresses.Of(k).ToString())
                .WithCertificateValidationHandler(e => Trusted(this, e.Certificate, e.Chain, e.SslPolicyErrors)))
            .Build();
        await client.ConnectAsync(options);
        return client;
    }

    /// <summary>Chains to the hub's CA and names the address connected to (the server certificate lists every partition address).</summary>
    private bool Trusted(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
            return false;
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.Add(_certificates.Ca);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return custom.Build(leaf);
    }
}
