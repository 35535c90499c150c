using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Akka.Actor;
using FleetSim.DeviceActors.Methods;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Twin;
using FleetSim.HubEmulator;
using FleetSim.HubEmulator.Registry;
using FleetSim.Protocol;
using FleetSim.Metrics;
using DeviceIdentity = FleetSim.DeviceActors.DeviceIdentity;

namespace FleetSim.DeviceActors.Tests.Integration;

/// <summary>Twin, direct methods, C2D, WebSockets and X.509 against the hub emulator, driven through its service REST API.</summary>
public sealed class HubServiceTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private readonly FleetMetrics _metrics = new();
    private IoTHubEmulator _hub = null!;
    private X509Certificate2 _ca = null!;
    private HttpClient _service = null!;
    private ServiceConnectionString _serviceConnection = null!;

    public HubServiceTests() : base("akka.loglevel = WARNING")
    {
    }

    public async Task InitializeAsync()
    {
        _hub = await IoTHubEmulator.StartAsync(new HubEmulatorOptions { MqttPort = 0, HttpsPort = 0 });
        _ca = X509Certificate2.CreateFromPem(_hub.CaCertificatePem);
        _serviceConnection = ServiceConnectionString.Parse(_hub.ServiceConnectionString);
        var ca = _ca;
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 || certificate is null)
                        return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(new X509Certificate2(certificate));
                },
            },
        };
        _service = new HttpClient(handler) { BaseAddress = new Uri($"https://localhost:{_hub.HttpsPort}/") };
    }

    public async Task DisposeAsync()
    {
        _service.Dispose();
        await _hub.DisposeAsync();
        _ca.Dispose();
    }

    private DeviceOptions Options() => new()
    {
        HostName = _hub.HostName,
        EndpointPort = _hub.MqttPort,
        TrustedCa = _ca,
        Telemetry = null,
        Twin = new TwinOptions { ReportDesiredBack = true },
        Methods = new MethodOptions
        {
            Handlers = new Dictionary<string, MethodBehavior> { ["reboot"] = new(200, """{"rebooting":true}""", TimeSpan.FromMilliseconds(100)) },
        },
        C2d = new C2dOptions(),
        Retry = RetryPolicy.Exponential with { ThrottledBase = TimeSpan.FromMilliseconds(200), ThrottledCap = TimeSpan.FromMilliseconds(500) },
    };

    private IActorRef Start(DeviceOptions options, string id)
    {
        var key = _hub.Registry.Add(id).PrimaryKey;
        var device = ChildActorOf(DeviceActor.Props(new DeviceIdentity(id, 0, key), new DeviceGroup(options, new DeviceMetrics(_metrics))));
        device.Tell(new DeviceActor.Start(options.Time.GetTimestamp()));
        AwaitRunning(device);
        return device;
    }

    private void AwaitRunning(IActorRef device) => AwaitAssert(() =>
    {
        device.Tell(DeviceActor.GetStatus.Instance, TestActor);
        Assert.Equal(DeviceState.Running, ExpectMsg<DeviceActor.DeviceStatus>().State);
    }, TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(50));

    private async Task<HttpResponseMessage> Service(HttpMethod method, string path, string? json = null, Action<HttpRequestMessage>? more = null)
    {
        using var request = new HttpRequestMessage(method, path + "?api-version=2021-04-12");
        request.Headers.TryAddWithoutValidation("Authorization", _serviceConnection.CreateSasToken(TimeSpan.FromHours(1), DateTimeOffset.UtcNow));
        if (json is not null)
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        more?.Invoke(request);
        return await _service.SendAsync(request);
    }

    private static long NowMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    [Fact]
    public async Task A_desired_patch_reaches_the_device_is_timed_and_is_reported_back()
    {
        Start(Options(), "twin-1");
        Assert.Equal(1, _metrics.Operation(Operations.TwinGet).OkCount);

        var patch = await Service(HttpMethod.Patch, "twins/twin-1", "{\"properties\":{\"desired\":{\"mode\":\"eco\",\"fleetsim-sent\":" + NowMs + "}}}");
        Assert.True(patch.IsSuccessStatusCode);

        AwaitCondition(() => _metrics.Operation(Operations.ReportedPatch).OkCount >= 1, TimeSpan.FromSeconds(10));
        Assert.Equal(1, _metrics.Operation(Operations.DesiredDelivery).OkCount);
        var twin = await (await Service(HttpMethod.Get, "twins/twin-1")).Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("eco", twin!["properties"]!["reported"]!["mode"]!.GetValue<string>());
    }

    [Fact]
    public async Task Desired_state_changed_while_offline_is_applied_after_the_reconnect()
    {
        var device = Start(Options(), "twin-2");
        _hub.Faults.RefuseConnects(TimeSpan.FromMinutes(1), "twin-2");
        Assert.True(await _hub.Faults.DropDeviceAsync("twin-2"));
        AwaitCondition(() => _metrics.Operation(Operations.Connect).FailedCount >= 1, TimeSpan.FromSeconds(10));

        var patch = await Service(HttpMethod.Patch, "twins/twin-2", """{"properties":{"desired":{"firmware":"2.0"}}}""");
        Assert.True(patch.IsSuccessStatusCode);
        _hub.Faults.RefuseConnects(TimeSpan.Zero);

        AwaitCondition(() => _metrics.Counter(DeviceMetrics.TwinMissedApplied).Value == 1, TimeSpan.FromSeconds(15));
        AwaitRunning(device);
        AwaitCondition(() => _metrics.Operation(Operations.ReportedPatch).OkCount >= 1, TimeSpan.FromSeconds(10));
        var twin = await (await Service(HttpMethod.Get, "twins/twin-2")).Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("2.0", twin!["properties"]!["reported"]!["firmware"]!.GetValue<string>());
    }

    [Fact]
    public async Task Direct_methods_are_answered_by_their_handler_or_as_unknown()
    {
        Start(Options(), "method-1");

        var known = await Service(HttpMethod.Post, "twins/method-1/methods", """{"methodName":"reboot","payload":{},"responseTimeoutInSeconds":10}""");
        var unknown = await Service(HttpMethod.Post, "twins/method-1/methods", """{"methodName":"dance","payload":null,"responseTimeoutInSeconds":10}""");

        var answer = await known.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(200, answer!["status"]!.GetValue<int>());
        Assert.True(answer["payload"]!["rebooting"]!.GetValue<bool>());
        Assert.Equal(404, (await unknown.Content.ReadFromJsonAsync<JsonObject>())!["status"]!.GetValue<int>());
        Assert.Equal(2, _metrics.Counter(DeviceMetrics.MethodsAnswered).Value);
    }

    [Fact]
    public async Task A_c2d_message_is_received_timed_and_completed()
    {
        Start(Options(), "c2d-1");

        var sent = await Service(HttpMethod.Post, "devices/c2d-1/messages/deviceBound", "hello",
            r => r.Headers.TryAddWithoutValidation("iothub-app-" + FleetSimProperties.SentAt, NowMs.ToString()));
        Assert.True(sent.IsSuccessStatusCode);

        AwaitCondition(() => _hub.Stats().C2dCompleted == 1, TimeSpan.FromSeconds(10));
        Assert.Equal(1, _metrics.Counter(DeviceMetrics.C2dReceived).Value);
        Assert.Equal(1, _metrics.Operation(Operations.C2dDelivery).OkCount);
    }

    [Fact]
    public async Task A_c2d_message_left_unacknowledged_is_delivered_again_after_a_reconnect()
    {
        var device = Start(Options() with { C2d = new C2dOptions { Acknowledge = false } }, "c2d-noack");

        var sent = await Service(HttpMethod.Post, "devices/c2d-noack/messages/deviceBound", "hello");
        Assert.True(sent.IsSuccessStatusCode);
        AwaitCondition(() => _metrics.Counter(DeviceMetrics.C2dReceived).Value == 1, TimeSpan.FromSeconds(10));
        Assert.Equal(0, _hub.Stats().C2dCompleted); // no PUBACK: the hub still holds it

        Assert.True(await _hub.Faults.DropDeviceAsync("c2d-noack"));
        AwaitCondition(() => _metrics.Counter(DeviceMetrics.C2dReceived).Value == 2, TimeSpan.FromSeconds(15));
        AwaitRunning(device);
        Assert.Equal(0, _hub.Stats().C2dCompleted);
    }

    [Fact]
    public void Telemetry_over_WebSockets_is_ingested()
    {
        var options = Options() with
        {
            Transport = DeviceTransportKind.MqttWebSockets,
            EndpointPort = _hub.HttpsPort,
            Telemetry = new TelemetryOptions { Interval = TimeSpan.FromMilliseconds(100) },
        };
        var device = Start(options, "ws-1");

        AwaitCondition(() => _metrics.Counter(Counters.TelemetryAcked).Value >= 5, TimeSpan.FromSeconds(10));
        device.Tell(DeviceActor.Stop.Instance, TestActor);
        ExpectMsg<DeviceActor.DeviceStopped>(TimeSpan.FromSeconds(10));
        Assert.Equal(_metrics.Counter(Counters.TelemetrySent).Value, _hub.Ingest.ForDevice("ws-1")!.Ingested);
    }

    [Fact]
    public void An_X509_device_registered_by_thumbprint_connects_and_sends()
    {
        using var key = ECDsa.Create();
        var request = new CertificateRequest("CN=x509-1", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
        _hub.Registry.Put(new DeviceSpec("x509-1", AuthenticationType: DeviceAuthenticationType.SelfSigned,
            PrimaryThumbprint: certificate.Thumbprint), ifMatch: null);
        var options = Options() with { Telemetry = new TelemetryOptions { Interval = TimeSpan.FromMilliseconds(100) }, Twin = null };
        var device = ChildActorOf(DeviceActor.Props(new DeviceIdentity("x509-1", 0, null, ClientCertificate: certificate),
            new DeviceGroup(options, new DeviceMetrics(_metrics))));
        device.Tell(new DeviceActor.Start(options.Time.GetTimestamp()));

        AwaitCondition(() => _metrics.Counter(Counters.TelemetryAcked).Value >= 3, TimeSpan.FromSeconds(10));
        Assert.True(_hub.Ingest.ForDevice("x509-1")!.Ingested >= 3);
    }

    [Fact]
    public void A_file_upload_reaches_the_hubs_blob_store_and_is_notified()
    {
        var options = Options() with
        {
            Twin = null,
            FileUpload = new Files.FileUploadOptions { Interval = TimeSpan.FromMilliseconds(300), SizeBytes = 4096, HttpsPort = _hub.HttpsPort },
        };
        var device = Start(options, "upload-1");

        AwaitCondition(() => _metrics.Operation(Operations.FileUpload).OkCount >= 1, TimeSpan.FromSeconds(15));
        device.Tell(DeviceActor.Stop.Instance, TestActor);
        ExpectMsg<DeviceActor.DeviceStopped>(TimeSpan.FromSeconds(10));
        // An upload every 300 ms: the hub may hold a later one still under way (not notified yet); the finished ones are whole.
        var uploads = _hub.FileUploads.All().Where(static u => u.DeviceId == "upload-1" && u.Notified).ToList();
        Assert.True(uploads.Count >= 1, "no notified upload");
        Assert.All(uploads, static u => Assert.True(u.IsSuccess));
        Assert.All(uploads, static u => Assert.Equal(4096, new FileInfo(u.FilePath).Length));
        Assert.Equal(0, _metrics.Operation(Operations.FileUpload).FailedCount);
    }

    [Fact]
    public void An_X509_device_uploads_a_file_authenticated_by_its_client_certificate()
    {
        using var certificate = _hub.Certificates.CreateDeviceCertificate("x509-upload", TimeSpan.FromDays(1));
        _hub.Registry.Put(new DeviceSpec("x509-upload", AuthenticationType: DeviceAuthenticationType.CertificateAuthority), ifMatch: null);
        var options = Options() with
        {
            Twin = null,
            FileUpload = new Files.FileUploadOptions { Interval = TimeSpan.FromMilliseconds(300), SizeBytes = 3000, HttpsPort = _hub.HttpsPort },
        };
        var device = ChildActorOf(DeviceActor.Props(new DeviceIdentity("x509-upload", 0, null, ClientCertificate: certificate),
            new DeviceGroup(options, new DeviceMetrics(_metrics))));
        device.Tell(new DeviceActor.Start(options.Time.GetTimestamp()));

        AwaitCondition(() => _metrics.Operation(Operations.FileUpload).OkCount >= 2, TimeSpan.FromSeconds(15));
        device.Tell(DeviceActor.Stop.Instance, TestActor);
        ExpectMsg<DeviceActor.DeviceStopped>(TimeSpan.FromSeconds(10));
        Assert.Equal(0, _metrics.Operation(Operations.FileUpload).FailedCount);
        var uploads = _hub.FileUploads.All().Where(u => u.DeviceId == "x509-upload" && u.Notified).ToList();
        Assert.True(uploads.Count >= 2);
        Assert.All(uploads, u => Assert.Equal(3000, new FileInfo(u.FilePath).Length));
    }
}
