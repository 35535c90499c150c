using System.Security.Authentication;
using Akka.Actor;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.Protocol;
using FleetSim.Metrics;
using MQTTnet.Protocol;

namespace FleetSim.DeviceActors.Tests.Integration;

/// <summary>The real MQTTnet transport over TLS on loopback, against a plain broker (no hub needed).</summary>
public sealed class MqttTransportTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const string Key = "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ==";
    private readonly TestCertificates _certificates = TestCertificates.Create();
    private readonly FleetMetrics _metrics = new();
    private TlsBroker _broker = null!;

    public MqttTransportTests() : base("akka.loglevel = WARNING")
    {
    }

    public async Task InitializeAsync() => _broker = await TlsBroker.StartAsync(_certificates);

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        _certificates.Dispose();
    }

    private DeviceOptions Options(TimeSpan? interval = null) => new()
    {
        HostName = "localhost",
        EndpointPort = _broker.Port,
        TrustedCa = _certificates.Ca,
        Telemetry = new TelemetryOptions { Interval = interval ?? TimeSpan.FromMilliseconds(50) },
        StopDrainTimeout = TimeSpan.FromSeconds(2),
    };

    private IActorRef Start(DeviceOptions options, string id = "d1")
    {
        var device = ChildActorOf(DeviceActor.Props(new DeviceIdentity(id, 0, Key), new DeviceGroup(options, new DeviceMetrics(_metrics))));
        device.Tell(new DeviceActor.Start(options.Time.GetTimestamp()));
        return device;
    }

    private long Count(string name) => _metrics.Counter(name).Value;

    [Fact]
    public void A_PUBLISH_is_written_whole_not_header_and_payload_apart()
    {
        // MQTTnet's default writes a PUBLISH's header and payload separately (two TLS records, two send() calls);
        // the device's PUBACKs over this setting are checked by the test below and the hub tests.
        using var transport = new FleetSim.DeviceActors.Transport.MqttDeviceTransport(new MQTTnet.MqttClientFactory(), new DeviceIdentity("d1", 0, Key), Options(), new DeviceTopics("d1"));
        Assert.False(transport.ClientOptions.AllowPacketFragmentation);
    }

    [Fact]
    public async Task Device_connects_over_TLS_with_the_IoT_Hub_CONNECT_fields_and_gets_PUBACKs()
    {
        var device = Start(Options());

        AwaitCondition(() => Count(Counters.TelemetryAcked) >= 3, TimeSpan.FromSeconds(10));
        Assert.True(_broker.Connects.TryPeek(out var connect));
        Assert.Equal("d1", connect.ClientId);
        Assert.Equal("localhost/d1/?api-version=2021-04-12&DeviceClientType=FleetSim%2F1.0", connect.UserName);
        Assert.False(connect.CleanSession);
        Assert.Equal((ushort)60, connect.KeepAlive);
        var token = SasToken.Parse(connect.Password!);
        Assert.True(token.IsSignatureValid(Key));
        Assert.True(token.Covers("localhost", "devices/d1"));
        var topics = _broker.Published.Select(p => p.Topic).Take(3).ToArray();
        Assert.Equal(["1", "2", "3"], topics.Select(t => PropertyBag.Decode(t[(t.LastIndexOf('/') + 1)..])
            .Single(p => p.Key == FleetSimProperties.Sequence).Value!).ToArray());

        device.Tell(DeviceActor.Stop.Instance, TestActor);
        ExpectMsg<DeviceActor.DeviceStopped>(TimeSpan.FromSeconds(10));
        Assert.Equal(Count(Counters.TelemetrySent), Count(Counters.TelemetryAcked));
        await Task.CompletedTask;
    }

    [Fact]
    public void A_server_certificate_from_another_CA_stops_the_device_as_untrusted()
    {
        using var other = TestCertificates.Create("Somebody Else's CA");
        Start(Options() with { TrustedCa = other.Ca });

        var stopped = ExpectMsg<DeviceActor.DeviceStopped>(TimeSpan.FromSeconds(10));
        Assert.Equal("untrustedServer", stopped.Reason);
        Assert.Empty(_broker.Connects);
    }

    [Fact]
    public void CONNACK_not_authorized_stops_the_device_without_retrying()
    {
        _broker.ConnAck = MqttConnectReasonCode.NotAuthorized;
        Start(Options());

        Assert.Equal("unauthorized", ExpectMsg<DeviceActor.DeviceStopped>(TimeSpan.FromSeconds(10)).Reason);
        ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        Assert.Single(_broker.Connects);
    }

    [Fact]
    public async Task A_dropped_connection_is_reestablished_and_no_sequence_number_is_lost()
    {
        var device = Start(Options());
        AwaitCondition(() => Count(Counters.TelemetryAcked) >= 3, TimeSpan.FromSeconds(10));

        await _broker.DropAsync("d1");
        AwaitCondition(() => _broker.Connects.Count >= 2, TimeSpan.FromSeconds(10));
        var acked = Count(Counters.TelemetryAcked);
        AwaitCondition(() => Count(Counters.TelemetryAcked) >= acked + 3, TimeSpan.FromSeconds(10));
        device.Tell(DeviceActor.Stop.Instance, TestActor);
        ExpectMsg<DeviceActor.DeviceStopped>(TimeSpan.FromSeconds(10));

        var sequences = _broker.Published.Select(p => PropertyBag.Decode(p.Topic[(p.Topic.LastIndexOf('/') + 1)..])
            .Single(kv => kv.Key == FleetSimProperties.Sequence).Value!).Select(long.Parse).Distinct().Order().ToArray();
        Assert.Equal(Enumerable.Range(1, sequences.Length).Select(i => (long)i), sequences); // no gap
        Assert.Equal(1, Count(Counters.ConnectionLost));
        Assert.Equal(1, _metrics.Operation(Operations.Reconnect).OkCount);
        Assert.Equal(Count(Counters.TelemetrySent), Count(Counters.TelemetryAcked));
    }

    [Fact]
    public void The_user_name_names_the_hub_and_model_while_the_connection_goes_to_the_endpoint_host()
    {
        var options = Options() with { HostName = "myhub.azure-devices.net", EndpointHost = "localhost", ModelId = "dtmi:com:example:Thermostat;1", ProductInfo = null };
        Start(options);

        AwaitCondition(() => Count(Counters.TelemetryAcked) >= 1, TimeSpan.FromSeconds(10));
        Assert.True(_broker.Connects.TryPeek(out var connect));
        Assert.Equal("myhub.azure-devices.net/d1/?api-version=2021-04-12&model-id=dtmi:com:example:Thermostat;1", connect.UserName);
        Assert.True(SasToken.Parse(connect.Password!).Covers("myhub.azure-devices.net", "devices/d1"));
    }

    [Fact]
    public async Task The_TLS_versions_offered_are_the_configured_ones()
    {
        await using var tls12Only = await TlsBroker.StartAsync(_certificates, SslProtocols.Tls12);
        var tls13 = Options() with { EndpointPort = tls12Only.Port, TlsProtocols = SslProtocols.Tls13 };
        var tls12 = Options() with { EndpointPort = tls12Only.Port, TlsProtocols = SslProtocols.Tls12 };

        Start(tls13, "offers-1.3");
        AwaitCondition(() => _metrics.Operation(Operations.Connect).FailedCount >= 1, TimeSpan.FromSeconds(10));
        Assert.Empty(tls12Only.Connects);
        Start(tls12, "offers-1.2");
        AwaitCondition(() => tls12Only.Connects.Any(c => c.ClientId == "offers-1.2"), TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(tls12Only.Connects, c => c.ClientId == "offers-1.3");
    }

    [Fact]
    public void SAS_renewal_on_a_real_connection_loses_and_repeats_nothing()
    {
        var options = Options() with { SasTtl = TimeSpan.FromSeconds(4), SasRenewalMargin = TimeSpan.FromSeconds(2) };
        var device = Start(options);

        AwaitCondition(() => _metrics.Operation(Operations.SasRenewal).OkCount >= 2, TimeSpan.FromSeconds(15));
        device.Tell(DeviceActor.Stop.Instance, TestActor);
        ExpectMsg<DeviceActor.DeviceStopped>(TimeSpan.FromSeconds(10));

        Assert.True(_broker.Connects.Count >= 3);
        Assert.Equal(0, Count(Counters.ConnectionLost));
        var sequences = _broker.Published.Select(p => long.Parse(PropertyBag.Decode(p.Topic[(p.Topic.LastIndexOf('/') + 1)..])
            .Single(kv => kv.Key == FleetSimProperties.Sequence).Value!)).ToArray();
        Assert.Equal(Enumerable.Range(1, sequences.Length).Select(i => (long)i), sequences.Order()); // no gap, no repeat
        Assert.Equal(Count(Counters.TelemetrySent), Count(Counters.TelemetryAcked));
    }

    [Fact]
    public async Task An_X509_device_presents_its_certificate_and_sends_no_password()
    {
        await using var broker = await TlsBroker.StartAsync(_certificates, askForClientCertificate: true);
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=x509-device", key,
            System.Security.Cryptography.HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension(
            [new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.2")], false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(
            created.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx), null);
        var options = Options() with { EndpointPort = broker.Port };
        var device = ChildActorOf(DeviceActor.Props(new DeviceIdentity("x509-device", 0, null, ClientCertificate: certificate),
            new DeviceGroup(options, new DeviceMetrics(_metrics))));
        device.Tell(new DeviceActor.Start(options.Time.GetTimestamp()));

        AwaitCondition(() => Count(Counters.TelemetryAcked) >= 1, TimeSpan.FromSeconds(10));
        Assert.True(broker.Connects.TryPeek(out var connect));
        Assert.Equal(certificate.Thumbprint, connect.ClientCertificateThumbprint);
        Assert.True(string.IsNullOrEmpty(connect.Password));
        Assert.Equal("localhost/x509-device/?api-version=2021-04-12&DeviceClientType=FleetSim%2F1.0", connect.UserName);
    }

    [Fact]
    public async Task Only_the_configured_cipher_suites_are_offered()
    {
        await using var broker = await TlsBroker.StartAsync(_certificates, SslProtocols.Tls12);
        // The broker's key is ECDSA: an RSA-only suite cannot be agreed, an ECDSA one can.
        var rsaOnly = Options() with
        {
            EndpointPort = broker.Port,
            TlsProtocols = SslProtocols.Tls12,
            CipherSuites = [System.Net.Security.TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256],
        };
        var ecdsa = rsaOnly with { CipherSuites = [System.Net.Security.TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256] };

        Start(rsaOnly, "rsa-only");
        AwaitCondition(() => _metrics.Operation(Operations.Connect).FailedCount >= 1, TimeSpan.FromSeconds(10));
        // The handshake itself failed (no suite in common): a transport failure, not a distrusted server or a timeout,
        // and no MQTT CONNECT ever reached the broker.
        Assert.Equal(["network"], _metrics.Snapshot().Operations[Operations.Connect].FailuresByReason.Keys);
        Start(ecdsa, "ecdsa");
        AwaitCondition(() => broker.Connects.Any(c => c.ClientId == "ecdsa"), TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(broker.Connects, c => c.ClientId == "rsa-only");
    }
}
