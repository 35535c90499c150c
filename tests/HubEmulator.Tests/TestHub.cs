using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FleetSim.HubEmulator.Registry;
using FleetSim.Protocol;
using MQTTnet;
using MQTTnet.Formatter;

namespace FleetSim.HubEmulator.Tests;

/// <summary>An emulator on free loopback ports plus the clients tests talk to it with (real MQTT over TLS, real HTTPS).</summary>
internal sealed class TestHub : IAsyncDisposable
{
    private readonly X509Certificate2 _ca;

    private TestHub(IoTHubEmulator hub)
    {
        Hub = hub;
        _ca = X509Certificate2.CreateFromPem(hub.CaCertificatePem);
        Service = ServiceConnectionString.Parse(hub.ServiceConnectionString);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = ValidateServer },
        };
        Http = new HttpClient(handler) { BaseAddress = new Uri($"https://localhost:{hub.HttpsPort}/") };
    }

    public IoTHubEmulator Hub { get; }

    public HttpClient Http { get; }

    public ServiceConnectionString Service { get; }

    public static async Task<TestHub> StartAsync(Action<HubEmulatorOptions>? configure = null)
    {
        var options = new HubEmulatorOptions { MqttPort = 0, HttpsPort = 0 };
        configure?.Invoke(options);
        return new TestHub(await IoTHubEmulator.StartAsync(options));
    }

    public string ServiceToken(TimeSpan? ttl = null) => Service.CreateSasToken(ttl ?? TimeSpan.FromHours(1), DateTimeOffset.UtcNow);

    public HttpRequestMessage ServiceRequest(HttpMethod method, string path, string? json = null)
    {
        var request = new HttpRequestMessage(method, path + (path.Contains('?') ? "&" : "?") + "api-version=2021-04-12");
        request.Headers.TryAddWithoutValidation("Authorization", ServiceToken());
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return request;
    }

    public string DeviceToken(DeviceIdentity device, TimeSpan? ttl = null, string? key = null) =>
        SasToken.Create($"{Hub.HostName}/devices/{device.DeviceId}", key ?? device.PrimaryKey!, DateTimeOffset.UtcNow + (ttl ?? TimeSpan.FromHours(1)));

    public MqttClientOptions DeviceOptions(
        string clientId,
        string? password,
        bool cleanSession = false,
        MqttProtocolVersion version = MqttProtocolVersion.V311,
        bool webSocket = false,
        X509Certificate2? clientCertificate = null)
    {
        var builder = new MqttClientOptionsBuilder()
            .WithClientId(clientId)
            .WithCredentials(MqttUsername.Build(Hub.HostName, clientId), password)
            .WithCleanSession(cleanSession)
            .WithProtocolVersion(version)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithTlsOptions(tls =>
            {
                tls.UseTls().WithTargetHost("localhost").WithCertificateValidationHandler(e => ValidateServer(this, e.Certificate, e.Chain, e.SslPolicyErrors));
                if (clientCertificate is not null)
                {
                    tls.WithClientCertificates([clientCertificate]);
                }
            });
        builder = webSocket
            ? builder.WithWebSocketServer(ws => ws.WithUri($"wss://localhost:{Hub.HttpsPort}/$iothub/websocket").WithSubProtocols(["mqtt"]))
            : builder.WithTcpServer("localhost", Hub.MqttPort);
        return builder.Build();
    }

    /// <summary>Registers a device and connects it over MQTT/TLS with a fresh SAS token.</summary>
    public async Task<(DeviceIdentity Device, IMqttClient Client)> ConnectNewDeviceAsync(string deviceId, bool cleanSession = false)
    {
        var device = Hub.Registry.Add(deviceId);
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(DeviceOptions(deviceId, DeviceToken(device), cleanSession));
        return (device, client);
    }

    /// <summary>
    /// Sends a hand-built MQTT 3.1.1 CONNECT over TLS and returns the CONNACK return code byte exactly as it
    /// came over the wire (so the test sees what an SDK sees, not a client library's mapping of it).
    /// </summary>
    public async Task<byte> RawConnectAsync(string clientId, string username, string? password)
    {
        using var tcp = new TcpClient();
        await using var tls = await RawOpenAsync(tcp, clientId, username, password, keepAliveSeconds: 60);
        return await ReadConnackAsync(tls);
    }

    /// <summary>Opens TLS to the MQTT port and sends a hand-built CONNECT; the caller reads the answer.</summary>
    public async Task<SslStream> RawOpenAsync(TcpClient tcp, string clientId, string username, string? password, byte keepAliveSeconds)
    {
        await tcp.ConnectAsync("127.0.0.1", Hub.MqttPort);
        var tls = new SslStream(tcp.GetStream(), false, ValidateServer);
        await tls.AuthenticateAsClientAsync("localhost");
        await tls.WriteAsync(ConnectPacket(clientId, username, password, keepAliveSeconds));
        return tls;
    }

    public static async Task<byte> ReadConnackAsync(SslStream tls)
    {
        var connack = new byte[4];
        await tls.ReadExactlyAsync(connack).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0x20, connack[0]);
        Assert.Equal(0x02, connack[1]);
        return connack[3];
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Hub.DisposeAsync();
        _ca.Dispose();
    }

    /// <summary>Polls until <paramref name="condition"/> holds or the deadline passes (no fixed sleeps).</summary>
    public static async Task Eventually(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }

            await Task.Delay(20);
        }
    }

    private static byte[] ConnectPacket(string clientId, string username, string? password, byte keepAliveSeconds)
    {
        var body = new List<byte>();
        WriteString(body, "MQTT");
        body.Add(4); // protocol level 3.1.1
        body.Add((byte)(0x80 | (password is null ? 0 : 0x40))); // username, password, CleanSession=0
        body.Add(0);
        body.Add(keepAliveSeconds);
        WriteString(body, clientId);
        WriteString(body, username);
        if (password is not null)
        {
            WriteString(body, password);
        }

        var packet = new List<byte> { 0x10 };
        var remaining = body.Count;
        do
        {
            var digit = (byte)(remaining % 128);
            remaining /= 128;
            packet.Add(remaining > 0 ? (byte)(digit | 0x80) : digit);
        }
        while (remaining > 0);
        packet.AddRange(body);
        return [.. packet];
    }

    private static void WriteString(List<byte> target, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)bytes.Length);
        target.AddRange(length.ToArray());
        target.AddRange(bytes);
    }

    private bool ValidateServer(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false; // name mismatch or no certificate
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.Add(_ca);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return custom.Build(leaf);
    }
}

