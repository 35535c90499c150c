using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography;
using FleetSim.HubEmulator.C2d;
using FleetSim.HubEmulator.Certificates;
using FleetSim.HubEmulator.Faults;
using FleetSim.HubEmulator.FileUpload;
using FleetSim.HubEmulator.Ingest;
using FleetSim.HubEmulator.Methods;
using FleetSim.HubEmulator.Mqtt;
using FleetSim.HubEmulator.Registry;
using FleetSim.HubEmulator.Rest;
using FleetSim.HubEmulator.Throttling;
using FleetSim.HubEmulator.Twins;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FleetSim.HubEmulator;

/// <summary>
/// An in-process Azure IoT Hub for load tests and SDK conformance: MQTT 3.1.1 over TLS (and WebSockets) for
/// devices, the HTTPS service API for registry, twins and methods, plus emulator extensions under
/// <c>/fleetsim/</c> (stats, faults, C2D send). Start it, register devices through the REST API (or
/// <see cref="Registry"/>), point devices at <see cref="HostName"/>:<see cref="MqttPort"/> trusting
/// <see cref="CaCertificatePath"/>, and read <see cref="Ingest"/> at the end.
/// </summary>
public sealed class IoTHubEmulator : IAsyncDisposable
{
    private readonly WebApplication _web;
    private readonly HubMqttServer _mqtt;
    private readonly HubServices _services;
    private readonly string? _ownedDataDirectory;
    private int _disposed;

    private IoTHubEmulator(
        HubEmulatorOptions options, WebApplication web, HubMqttServer mqtt, HubServices services, EmulatorCertificates certificates,
        string serviceKey, string caPath, string? ownedDataDirectory, int mqttPort, int httpsPort, FileUploads uploads)
    {
        FileUploads = uploads;
        _web = web;
        _mqtt = mqtt;
        _services = services;
        _ownedDataDirectory = ownedDataDirectory;
        HostName = options.HostName;
        MqttPort = mqttPort;
        HttpsPort = httpsPort;
        Certificates = certificates;
        CaCertificatePath = caPath;
        ServiceConnectionString = $"HostName={options.HostName};SharedAccessKeyName={ConnectAuthenticator.OwnerPolicy};SharedAccessKey={serviceKey}";
    }

    public string HostName { get; }

    public int MqttPort { get; }

    public int HttpsPort { get; }

    /// <summary><c>HostName=…;SharedAccessKeyName=iothubowner;SharedAccessKey=…</c>. A secret: never log it unredacted.</summary>
    public string ServiceConnectionString { get; }

    public string CaCertificatePath { get; }

    public string CaCertificatePem => Certificates.CaPem;

    /// <summary>The emulator's CA and server certificates; mints device certificates for X.509 authentication.</summary>
    public EmulatorCertificates Certificates { get; }

    public IngestAccounting Ingest => _services.Ingest;

    public FaultInjector Faults => _services.Faults;

    /// <summary>Recent telemetry per device, when <see cref="HubEmulatorOptions.RecordTelemetryPerDevice"/> is set.</summary>
    public TelemetryRecorder Telemetry => _services.Telemetry;

    public DeviceRegistry Registry => _services.Registry;

    /// <summary>File uploads requested, stored and notified (blobs live under {DataDirectory}/blobs).</summary>
    public FileUploads FileUploads { get; }

    internal HubMqttServer Mqtt => _mqtt;

    /// <summary>The same numbers as <c>GET /fleetsim/stats</c>; with <paramref name="run"/>, ingest counts of that run only (<c>?run=</c>).</summary>
    public EmulatorStats Stats(string? run = null) => StatsEndpoint.Collect(_services, run);

    public static async Task<IoTHubEmulator> StartAsync(HubEmulatorOptions options, ILoggerFactory? loggerFactory = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        loggerFactory ??= NullLoggerFactory.Instance;
        var time = options.TimeProvider;

        string? ownedDirectory = null;
        var dataDirectory = options.DataDirectory;
        if (dataDirectory is null)
        {
            ownedDirectory = dataDirectory = Directory.CreateTempSubdirectory("fleetsim-hub-").FullName;
        }

        Directory.CreateDirectory(dataDirectory);
        var certificates = options.CertificatesFile is { } shared ? EmulatorCertificates.Load(shared) : EmulatorCertificates.Create(options.HostName, time);
        var caPath = Path.Combine(dataDirectory, "ca.pem");
        await File.WriteAllTextAsync(caPath, certificates.CaPem, ct).ConfigureAwait(false);

        var serviceKey = options.ServiceKey ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var ingest = new IngestAccounting(time, IngestAccounting.DefaultRunIdleTimeout);
        var registry = new DeviceRegistry(
            time, (id, identity) => new RegisteredDevice(identity, ingest.CounterFor(id), new DeviceTwin(time.GetUtcNow())));
        var faults = new FaultInjector(time);
        var hostNames = new HubHostNames(options.HostName);
        var throttle = new HubThrottle(options.Quotas, time);
        var certificateCheck = new DeviceCertificateCheck(certificates, time);
        var authenticator = new ConnectAuthenticator(hostNames, registry, serviceKey, certificateCheck, faults, throttle, time);
        var recorder = new TelemetryRecorder(options.RecordTelemetryPerDevice, time);
        var transportFaults = new ConnectionFaults(faults);
        var mqtt = new HubMqttServer(registry, authenticator, faults, recorder, throttle, time, options.SasExpiryGrace, loggerFactory, transportFaults);
        var twinRequests = new TwinRequestHandler(mqtt, faults, throttle, time);
        var methods = new DirectMethods(mqtt, time);
        var c2d = new CloudToDeviceMessages(mqtt);
        mqtt.Router.Add(twinRequests);
        mqtt.Router.Add(methods);
        mqtt.Connected += device =>
        {
            if (device.Connection.CleanSession)
            {
                c2d.SessionDiscarded(device);
            }

            _ = c2d.FlushAsync(device);
        };
        mqtt.Subscribed += (device, kind) =>
        {
            if (kind == DeviceSubscriptions.C2d)
            {
                _ = Task.Run(() => c2d.FlushAsync(device));
            }
        };
        var services = new HubServices(
            hostNames, registry, ingest, faults, mqtt, new ServiceAuthorization(hostNames, serviceKey, time), time,
            new TwinService(mqtt, time), twinRequests, methods, c2d, recorder, throttle);

        ListenOptions? mqttListen = null, httpsListen = null;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        // Registered last, so Kestrel binds through it: a hub restart fault closes and reopens the listening sockets.
        var listeners = new ListenerSwitch(new SocketTransportFactory(Microsoft.Extensions.Options.Options.Create(new SocketTransportOptions()), loggerFactory));
        builder.Services.AddSingleton<IConnectionListenerFactory>(listeners);
        faults.Attach(transportFaults, listeners);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(options.BindAddress, options.MqttPort, listen =>
            {
                mqttListen = listen;
                listen.Protocols = HttpProtocols.Http1;
                listen.Use(transportFaults.Wrap);
                listen.UseHttps(TlsOptions(certificates));
                listen.Run(connection => mqtt.TcpAdapter.OnConnectedAsync(connection));
            });
            kestrel.Listen(options.BindAddress, options.HttpsPort, listen =>
            {
                httpsListen = listen;
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.Use(transportFaults.Wrap);
                listen.UseHttps(TlsOptions(certificates));
                listen.Use(next => connection => ProtocolSniffer.RouteAsync(connection, next, mqtt.TcpAdapter));
            });
        });

        var web = builder.Build();
        web.UseWebSockets();
        WebSocketEndpoint.Map(web, mqtt);
        ServiceApi.Map(web, services);
        var uploads = new FileUploads(Path.Combine(dataDirectory, "blobs"), time, options.KeptBlobs, options.KeptUploadRecords);
        var blobHost = options.HostName;
        FileUploadEndpoints.Map(web, services, certificateCheck, uploads, () => blobHost);
        await mqtt.StartAsync().ConfigureAwait(false);
        try
        {
            await web.StartAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await mqtt.DisposeAsync().ConfigureAwait(false);
            await web.DisposeAsync().ConfigureAwait(false);
            certificates.Dispose();
            throw;
        }

        var httpsPort = BoundPort(httpsListen);
        hostNames.AddPorts(BoundPort(mqttListen), httpsPort);
        blobHost = httpsPort == 443 ? options.HostName : $"{options.HostName}:{httpsPort}";
        return new IoTHubEmulator(
            options, web, mqtt, services, certificates, serviceKey, caPath, ownedDirectory,
            BoundPort(mqttListen), httpsPort, uploads);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _mqtt.DisposeAsync().ConfigureAwait(false);
        await _web.StopAsync().ConfigureAwait(false);
        await _web.DisposeAsync().ConfigureAwait(false);
        Certificates.Dispose();
        if (_ownedDataDirectory is not null)
        {
            try
            {
                Directory.Delete(_ownedDataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // best effort: a file still open elsewhere stays behind in the temp folder
            }
        }
    }

    private static HttpsConnectionAdapterOptions TlsOptions(EmulatorCertificates certificates) => new()
    {
        ServerCertificate = certificates.Server,
        SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        // Devices with X.509 identities present a client certificate; CONNECT validation (MQTT) or the device
        // endpoints (file upload over HTTPS) judge it.
        ClientCertificateMode = ClientCertificateMode.AllowCertificate,
        ClientCertificateValidation = static (_, _, _) => true,
        // A fleet connecting at once queues thousands of handshakes on a few cores; Kestrel's 10 s default then
        // refuses devices the hub would have served (bench/README.md). Devices wait up to their own connect timeout.
        HandshakeTimeout = TimeSpan.FromSeconds(60),
    };

    private static int BoundPort(ListenOptions? listen) =>
        (listen?.EndPoint as IPEndPoint)?.Port ?? throw new InvalidOperationException("Kestrel did not report the bound port.");
}
