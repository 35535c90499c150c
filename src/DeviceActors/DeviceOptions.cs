using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using FleetSim.DeviceActors.Files;
using FleetSim.DeviceActors.Methods;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Twin;

namespace FleetSim.DeviceActors;

/// <summary>MQTT 3.1.1 over TLS (port 8883) or over secure WebSockets (port 443, path /$iothub/websocket).</summary>
public enum DeviceTransportKind
{
    Mqtt,
    MqttWebSockets,
}

/// <summary>What happens to telemetry generated while the device cannot send it.</summary>
public enum OfflinePolicy
{
    /// <summary>Keep it (up to <see cref="DeviceOptions.OfflineQueueCapacity"/>) and send it after reconnecting.</summary>
    Queue,

    /// <summary>Drop it at once and count it in telemetry.dropped.</summary>
    Drop,
}

/// <summary>
/// Everything a group of devices shares, built once per group (never per device): endpoints, the trusted CA,
/// timings, retry, telemetry and the behaviours of issue 3. Immutable; use <c>with</c> to derive variants.
/// </summary>
public sealed record DeviceOptions
{
    /// <summary>The hub's host name: used in the MQTT user name and the SAS resource (<c>sr</c>).</summary>
    public required string HostName { get; init; }

    /// <summary>Where to open the MQTT connection (like GatewayHostName); null means <see cref="HostName"/>.</summary>
    public string? EndpointHost { get; init; }

    /// <summary>MQTT port: 8883 for MQTT/TLS, 443 for WebSockets by default.</summary>
    public int? EndpointPort { get; init; }

    /// <summary>
    /// The partitions of an emulated hub split over several processes, in partition order; empty for one endpoint. A
    /// device connects to the partition that owns it (<see cref="Transport.ConnectionTarget"/>) instead of
    /// <see cref="MqttHost"/>:<see cref="MqttPort"/>.
    /// </summary>
    public IReadOnlyList<Transport.HubPartitionEndpoint> Partitions { get; init; } = [];

    /// <summary>
    /// Loopback source addresses (127.x) to spread MQTT/TCP connections over, chosen by device index, so the ~28k
    /// ephemeral ports towards one destination never run out; used only when the destination is an IPv4 loopback
    /// address and no proxy is in between. Empty: the OS chooses.
    /// </summary>
    public IReadOnlyList<System.Net.IPAddress> LocalAddresses { get; init; } = [];

    /// <summary>The CA the server certificate must chain to (the emulator's); null trusts the system store.</summary>
    public X509Certificate2? TrustedCa { get; init; }

    /// <summary>TLS versions offered; None lets the OS choose.</summary>
    public SslProtocols TlsProtocols { get; init; } = SslProtocols.None;

    /// <summary>TLS cipher suites offered (the SDKs' cipher option); null lets the OS choose.</summary>
    public IReadOnlyList<System.Net.Security.TlsCipherSuite>? CipherSuites { get; init; }

    public DeviceTransportKind Transport { get; init; } = DeviceTransportKind.Mqtt;

    /// <summary>Proxy for MQTT (TCP or WebSockets) and file-upload HTTPS (the SDKs' proxy_options); null connects directly.</summary>
    public Proxy.ProxyOptions? Proxy { get; init; }

    /// <summary>
    /// A loopback relay that MQTT over TCP goes through (<c>fleetsim run</c>'s chaos proxy, <c>hub.chaos</c>): an HTTP
    /// CONNECT tunnel whose request names the device (header <see cref="Proxy.HttpConnectStreamProvider.DeviceHeader"/>), so
    /// the relay can fault devices by id. TLS runs end to end with the hub (its host name and certificate are checked as
    /// without the relay). WebSockets and file uploads do not use it. Null connects directly.
    /// </summary>
    public System.Net.DnsEndPoint? Relay { get; init; }

    /// <summary>Path of the WebSocket endpoint (IoT Hub: /$iothub/websocket).</summary>
    public string WebSocketPath { get; init; } = "/$iothub/websocket";

    /// <summary>MQTT keep-alive (Python SDK: 60 s).</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a CONNECT (TCP + TLS + CONNACK), SUBSCRIBE or PUBACK may take.</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The process's limit on connects in flight, shared by all its groups (the run or the cluster worker creates one):
    /// a device waits for a slot before its TLS handshake, and its operation timeout starts only then. Null: no limit.
    /// </summary>
    public ConnectSlots? ConnectSlots { get; init; }

    /// <summary>Lifetime of each SAS token minted from a symmetric key (SDKs: 3600 s).</summary>
    public TimeSpan SasTtl { get; init; } = TimeSpan.FromSeconds(3600);

    /// <summary>Renew this long before the token expires (Python SDK: 120 s).</summary>
    public TimeSpan SasRenewalMargin { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Source of new tokens for devices given a ready-made token; null: such a device stops when it expires.</summary>
    public ISasTokenProvider? SasTokenProvider { get; init; }

    public RetryPolicy Retry { get; init; } = RetryPolicy.Exponential;

    /// <summary>
    /// The SDKs' auto_connect (default true): with <see cref="RetryPolicy.None"/>, a device whose connection failed or
    /// dropped stays disconnected until its next operation is due (telemetry, reported patch, upload), then connects for
    /// it, as an application calling send_message on a disconnected client does. False: it stops at the first failure.
    /// Failures that are never retried (unauthorized, untrusted server, proxy credentials) stop the device either way.
    /// </summary>
    public bool AutoConnect { get; init; } = true;

    /// <summary>
    /// The run's id, sent with every telemetry message as fleetsim-run so a standing emulator accounts each run apart
    /// (sequence gaps and repeats per run and device); null sends none.
    /// </summary>
    public string? RunId { get; init; }

    /// <summary>Seed of the run; each device's jitter is seeded from it and its index, so runs reproduce.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Product info sent as DeviceClientType in the user name; null sends none.</summary>
    public string? ProductInfo { get; init; } = "FleetSim/1.0";

    /// <summary>IoT Plug and Play model id (model-id in the user name); null sends none.</summary>
    public string? ModelId { get; init; }

    /// <summary>Telemetry interval and payload; null sends no telemetry.</summary>
    public TelemetryOptions? Telemetry { get; init; } = new();

    /// <summary>Twin behaviour; null: the device never touches its twin.</summary>
    public TwinOptions? Twin { get; init; }

    /// <summary>Direct-method handlers; null: the device does not subscribe to methods.</summary>
    public MethodOptions? Methods { get; init; }

    /// <summary>C2D behaviour; null: the device does not subscribe to C2D messages.</summary>
    public C2dOptions? C2d { get; init; }

    /// <summary>Periodic file uploads over HTTPS; null: none.</summary>
    public FileUploadOptions? FileUpload { get; init; }

    /// <summary>How long a stopping device waits for in-flight telemetry to be acknowledged.</summary>
    public TimeSpan StopDrainTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The scenario's name for this group: when set, the group's devices also count into per-group metrics
    /// (FleetSim.Metrics.GroupMetrics) for the report's per-group table.</summary>
    public string? GroupName { get; init; }

    /// <summary>Told (by device index) when a device's connection comes up and goes down; null: nobody listens.</summary>
    public IConnectionObserver? ConnectionObserver { get; init; }

    /// <summary>Devices whose transitions and errors are logged at debug level (no secrets).</summary>
    public IReadOnlySet<string> DebugDeviceIds { get; init; } = new HashSet<string>();

    /// <summary>Clock for intended-start timestamps and SAS expiry (tests may pass a fake).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// Wakes devices when telemetry is due. Null: <see cref="Telemetry.PreciseTelemetryScheduler.Shared"/> when
    /// <see cref="Time"/> is the system clock, else the device's Akka timers (virtual time in tests).
    /// </summary>
    public Telemetry.ITelemetryScheduler? TelemetryScheduler { get; init; }

    /// <summary>Reads a trusted CA certificate from PEM (e.g. the emulator's CaCertificatePem) once, for a whole group.</summary>
    /// <exception cref="FormatException">The text holds no PEM certificate.</exception>
    public static X509Certificate2 CaFromPem(string pem)
    {
        try
        {
            return X509Certificate2.CreateFromPem(pem);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new FormatException($"the trusted CA is not a PEM certificate ('-----BEGIN CERTIFICATE----- …'): {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"the trusted CA is not a PEM certificate ('-----BEGIN CERTIFICATE----- …'): {e.Message}", e);
        }
    }

    /// <summary>The MQTT host to connect to.</summary>
    public string MqttHost => EndpointHost ?? HostName;

    /// <summary>The MQTT port to connect to.</summary>
    public int MqttPort => EndpointPort ?? (Transport == DeviceTransportKind.MqttWebSockets ? 443 : 8883);

    /// <summary>Checks the options once per group; returns every problem found (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(HostName)) errors.Add("device options: HostName is required");
        if (MqttPort is <= 0 or > 65535) errors.Add($"device options: port must be 1..65535 (found {MqttPort})");
        if (KeepAlive < TimeSpan.Zero || KeepAlive > TimeSpan.FromSeconds(1177))
            errors.Add($"device options: keep-alive must be 0..1177 s, the largest value IoT Hub honours (found {KeepAlive.TotalSeconds} s)");
        if (OperationTimeout <= TimeSpan.Zero) errors.Add("device options: operation timeout must be positive");
        if (SasTtl <= TimeSpan.Zero) errors.Add("device options: SAS TTL must be positive");
        if (SasRenewalMargin < TimeSpan.Zero || SasRenewalMargin >= SasTtl)
            errors.Add($"device options: SAS renewal margin ({SasRenewalMargin.TotalSeconds} s) must be at least 0 and below the TTL ({SasTtl.TotalSeconds} s)");
        foreach (var local in LocalAddresses)
        {
            if (!System.Net.IPAddress.IsLoopback(local) || local.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
                errors.Add($"device options: local source addresses must be IPv4 loopback addresses (127.x.x.x; found {local})");
        }

        foreach (var p in Partitions)
        {
            if (string.IsNullOrWhiteSpace(p.Host) || p.MqttPort is <= 0 or > 65535 || p.HttpsPort is <= 0 or > 65535)
                errors.Add($"device options: a hub partition needs a host and ports 1..65535 (found {p})");
        }

        if (CipherSuites is { Count: 0 }) errors.Add("device options: cipher suites, when given, must name at least one suite");
        if (CipherSuites is not null && OperatingSystem.IsWindows())
            errors.Add("device options: cipher suites cannot be chosen on Windows (.NET's CipherSuitesPolicy is not supported there)");
        if (Proxy?.Validate() is { } proxy) errors.Add("device options: " + proxy);
        if (Relay is not null && (Proxy is not null || Transport != DeviceTransportKind.Mqtt))
            errors.Add("device options: a relay carries MQTT over TCP only, and not through another proxy");
        if (Retry.Validate() is { } retry) errors.Add("device options: " + retry);
        if (Telemetry?.Validate() is { } telemetry) errors.Add("device options: " + telemetry);
        if (Twin?.Validate() is { } twin) errors.Add("device options: " + twin);
        if (Methods?.Validate() is { } methods) errors.Add("device options: " + methods);
        if (C2d?.Validate() is { } c2d) errors.Add("device options: " + c2d);
        if (FileUpload?.Validate() is { } files) errors.Add("device options: " + files);
        return errors;
    }
}
