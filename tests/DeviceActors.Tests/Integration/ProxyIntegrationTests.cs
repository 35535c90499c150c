using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using FleetSim.DeviceActors.Files;
using FleetSim.DeviceActors.Proxy;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Tests.Proxy;
using FleetSim.HubEmulator;
using FleetSim.Metrics;
using DeviceIdentity = FleetSim.DeviceActors.DeviceIdentity;

namespace FleetSim.DeviceActors.Tests.Integration;

/// <summary>Devices reaching the in-process hub emulator through a real proxy on loopback (the SDKs' proxy_options).</summary>
public sealed class ProxyIntegrationTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const string User = "fleet";
    private const string Password = "s3cret-proxy-pw";
    private readonly FleetMetrics _metrics = new();
    private readonly List<TestProxy> _proxies = [];
    private IoTHubEmulator _hub = null!;
    private X509Certificate2 _ca = null!;

    public ProxyIntegrationTests() : base("akka.loglevel = WARNING")
    {
    }

    public async Task InitializeAsync()
    {
        _hub = await IoTHubEmulator.StartAsync(new HubEmulatorOptions { MqttPort = 0, HttpsPort = 0 });
        _ca = X509Certificate2.CreateFromPem(_hub.CaCertificatePem);
    }

    public async Task DisposeAsync()
    {
        Shutdown(); // devices first, so the proxies see their clients leave
        foreach (var proxy in _proxies)
            await proxy.DisposeAsync();
        await _hub.DisposeAsync();
        _ca.Dispose();
    }

    private TestProxy StartProxy(ProxyKind kind, bool requireCredentials = true)
    {
        var proxy = requireCredentials ? new TestProxy(kind, User, Password) : new TestProxy(kind);
        _proxies.Add(proxy);
        return proxy;
    }

    private DeviceOptions Options(ProxyOptions proxy) => new()
    {
        HostName = _hub.HostName,
        EndpointPort = _hub.MqttPort,
        TrustedCa = _ca,
        Telemetry = new TelemetryOptions { Interval = TimeSpan.FromMilliseconds(100) },
        Proxy = proxy,
        Retry = RetryPolicy.Exponential with { Cap = TimeSpan.FromMilliseconds(200) },
    };

    private IActorRef Start(DeviceOptions options, string id)
    {
        var key = _hub.Registry.Add(id).PrimaryKey;
        var device = ChildActorOf(DeviceActor.Props(new DeviceIdentity(id, 0, key), new DeviceGroup(options, new DeviceMetrics(_metrics))));
        device.Tell(new DeviceActor.Start(options.Time.GetTimestamp()));
        return device;
    }

    private long Count(string name) => _metrics.Counter(name).Value;

    private void StopAndCheckIngest(IActorRef device, string id)
    {
        device.Tell(DeviceActor.Stop.Instance, TestActor);
        Assert.Equal("stopped", ExpectMsg<DeviceActor.DeviceStopped>(TimeSpan.FromSeconds(15)).Reason);
        Assert.Equal(Count(Counters.TelemetrySent), _hub.Ingest.ForDevice(id)!.Ingested);
    }

    [Fact]
    public void Mqtt_over_tls_through_an_http_proxy_reaches_the_hub_and_the_proxy_saw_the_tunnel()
    {
        var proxy = StartProxy(ProxyKind.Http);
        var device = Start(Options(proxy.Options(User, Password)), "http-proxied");

        AwaitCondition(() => Count(Counters.TelemetryAcked) >= 5, TimeSpan.FromSeconds(15));
        StopAndCheckIngest(device, "http-proxied");
        Assert.Equal(1, proxy.Tunnels);
        Assert.Equal([$"{_hub.HostName}:{_hub.MqttPort}"], proxy.Destinations);
    }

    [Fact]
    public void Mqtt_over_tls_through_a_socks5_proxy_with_user_and_password_reaches_the_hub_and_the_proxy_resolves_the_name()
    {
        var proxy = StartProxy(ProxyKind.Socks5);
        var device = Start(Options(proxy.Options(User, Password)), "socks-proxied");

        AwaitCondition(() => Count(Counters.TelemetryAcked) >= 5, TimeSpan.FromSeconds(15));
        StopAndCheckIngest(device, "socks-proxied");
        Assert.Equal(1, proxy.Tunnels);
        Assert.Equal([$"{_hub.HostName}:{_hub.MqttPort}"], proxy.Destinations); // the host name, not an address: ATYP domain
    }

    [Fact]
    public void Mqtt_over_tls_through_a_socks4a_proxy_sends_its_user_id_and_lets_the_proxy_resolve_the_name()
    {
        var proxy = new TestProxy(ProxyKind.Socks4, User);
        _proxies.Add(proxy);
        var device = Start(Options(proxy.Options(User)), "socks4-proxied");

        AwaitCondition(() => Count(Counters.TelemetryAcked) >= 5, TimeSpan.FromSeconds(15));
        StopAndCheckIngest(device, "socks4-proxied");
        Assert.Equal(1, proxy.Tunnels);
        Assert.Equal([$"{_hub.HostName}:{_hub.MqttPort}"], proxy.Destinations); // 4a: the name, resolved by the proxy
    }

    [Fact]
    public void A_socks4_user_id_the_proxy_does_not_confirm_stops_the_device_as_proxyUnauthorized()
    {
        var proxy = new TestProxy(ProxyKind.Socks4, User);
        _proxies.Add(proxy);
        Start(Options(proxy.Options("someone-else")), "socks4-wrong-user");

        Assert.Equal("proxyUnauthorized", ExpectMsg<DeviceActor.DeviceStopped>(TimeSpan.FromSeconds(15)).Reason);
        Assert.Equal(1, proxy.Refusals);
        Assert.Equal(0, Count(Counters.ConnectRetries));
    }

    [Theory]
    [InlineData(ProxyKind.Http)]
    [InlineData(ProxyKind.Socks5)]
    [InlineData(ProxyKind.Socks4)]
    public void Mqtt_over_websockets_goes_through_the_proxy(ProxyKind kind)
    {
        var proxy = kind == ProxyKind.Socks4 ? new TestProxy(kind, User) : StartProxy(kind);
        if (kind == ProxyKind.Socks4)
            _proxies.Add(proxy);
        var options = Options(kind == ProxyKind.Socks4 ? proxy.Options(User) : proxy.Options(User, Password)) with { Transport = DeviceTransportKind.MqttWebSockets, EndpointPort = _hub.HttpsPort };
        var device = Start(options, "ws-proxied");

        AwaitCondition(() => Count(Counters.TelemetryAcked) >= 5, TimeSpan.FromSeconds(15));
        StopAndCheckIngest(device, "ws-proxied");
        Assert.Equal(1, proxy.Tunnels); // a loopback hub is not bypassed
        Assert.Equal([$"{_hub.HostName}:{_hub.HttpsPort}"], proxy.Destinations);
    }

    [Fact]
    public void File_upload_https_goes_through_the_proxy()
    {
        var proxy = StartProxy(ProxyKind.Http);
        var options = Options(proxy.Options(User, Password)) with
        {
            Telemetry = null,
            FileUpload = new FileUploadOptions { Interval = TimeSpan.FromMilliseconds(300), SizeBytes = 2048, HttpsPort = _hub.HttpsPort },
        };
        var device = Start(options, "upload-proxied");

        AwaitCondition(() => _metrics.Operation(Operations.FileUpload).OkCount >= 1, TimeSpan.FromSeconds(15));
        device.Tell(DeviceActor.Stop.Instance, TestActor);
        ExpectMsg<DeviceActor.DeviceStopped>(TimeSpan.FromSeconds(10));
        // An upload every 300 ms: the hub may hold a later one still under way (not notified yet); the finished ones are whole.
        var uploads = _hub.FileUploads.All().Where(static u => u.DeviceId == "upload-proxied" && u.Notified).ToList();
        Assert.True(uploads.Count >= 1, "no notified upload");
        Assert.All(uploads, static u => Assert.Equal(2048, new FileInfo(u.FilePath).Length));
        Assert.Contains($"{_hub.HostName}:{_hub.MqttPort}", proxy.Destinations);
        Assert.Contains($"{_hub.HostName}:{_hub.HttpsPort}", proxy.Destinations); // storage info, blob PUT, notification
    }

    [Theory]
    [InlineData(ProxyKind.Http)]
    [InlineData(ProxyKind.Socks5)]
    public void A_wrong_proxy_password_stops_the_device_as_proxyUnauthorized_after_exactly_one_attempt(ProxyKind kind)
    {
        var proxy = StartProxy(kind);
        Start(Options(proxy.Options(User, "wrong")), "bad-proxy-password");

        Assert.Equal("proxyUnauthorized", ExpectMsg<DeviceActor.DeviceStopped>(TimeSpan.FromSeconds(15)).Reason);
        ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        Assert.Equal(1, proxy.Connections);
        Assert.Equal(1, proxy.Refusals);
        Assert.Equal(0, proxy.Tunnels);
        Assert.Equal(1, _metrics.Operation(Operations.Connect).FailedCount);
        Assert.Equal(0, Count(Counters.ConnectRetries));
        Assert.Equal(1, Count("device.stopped.proxyUnauthorized"));
        Assert.Equal(0, _hub.Stats().ConnectsRefused);
    }

    [Theory]
    [InlineData(ProxyKind.Http)]
    [InlineData(ProxyKind.Socks5)]
    public void A_wrong_proxy_password_over_websockets_stops_the_device_as_proxyUnauthorized_without_retrying(ProxyKind kind)
    {
        var proxy = StartProxy(kind);
        var options = Options(proxy.Options(User, "wrong")) with { Transport = DeviceTransportKind.MqttWebSockets, EndpointPort = _hub.HttpsPort };
        Start(options, "bad-ws-proxy-password");

        Assert.Equal("proxyUnauthorized", ExpectMsg<DeviceActor.DeviceStopped>(TimeSpan.FromSeconds(15)).Reason);
        ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        Assert.True(proxy.Refusals >= 1); // ClientWebSocket first asks without credentials when the proxy challenges (HTTP)
        Assert.Equal(0, proxy.Tunnels);
        Assert.Equal(1, _metrics.Operation(Operations.Connect).FailedCount);
        Assert.Equal(0, Count(Counters.ConnectRetries));
    }

    [Fact]
    public void A_proxy_that_is_not_listening_is_retried_as_a_network_failure()
    {
        var port = FreePort();
        var device = Start(Options(new ProxyOptions(ProxyKind.Http, "127.0.0.1", port, User, Password)), "no-proxy");

        AwaitCondition(() => Count(Counters.ConnectRetries) >= 3, TimeSpan.FromSeconds(15));
        device.Tell(DeviceActor.GetStatus.Instance, TestActor);
        Assert.NotEqual(DeviceState.Stopped, ExpectMsg<DeviceActor.DeviceStatus>().State);
        Assert.Equal(0, _metrics.Operation(Operations.Connect).OkCount);
        Assert.True(_metrics.Operation(Operations.Connect).FailedCount >= 3);
        device.Tell(DeviceActor.Stop.Instance, TestActor);
        Assert.Equal("stopped", ExpectMsg<DeviceActor.DeviceStopped>(TimeSpan.FromSeconds(10)).Reason);
    }

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
