using System.Net.Security;
using System.Security.Authentication;
using FleetSim.DeviceActors.Proxy;
using FleetSim.Scenarios.Templates;

namespace FleetSim.Scenarios.Model;

/// <summary>A group of identical devices and their behaviours. Absent behaviours are null (off).</summary>
public sealed record DeviceGroup(
    string Name,
    int Count,
    DeviceIdPattern Ids,
    CredentialKind Credential,
    TransportKind Transport,
    TimeSpan KeepAlive,
    string? ModelId,
    string? ProductInfo,
    RetrySpec Retry,
    TimeSpan SasTtl,
    TimeSpan SasRenewalMargin,
    TelemetrySpec? Telemetry,
    ReportedSpec? Reported,
    IReadOnlyDictionary<string, MethodHandlerSpec> Methods,
    MethodHandlerSpec UnknownMethod,
    DesiredSpec? Desired,
    C2dSpec? C2d,
    FileUploadSpec? FileUpload)
{
    public static readonly TimeSpan DefaultKeepAlive = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultSasTtl = TimeSpan.FromHours(1);
    public static readonly TimeSpan DefaultSasRenewalMargin = TimeSpan.FromMinutes(2);

    /// <summary>The device's default operation timeout (DeviceOptions.OperationTimeout).</summary>
    public static readonly TimeSpan DefaultOperationTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a device waits for the hub's answer to an operation (CONNACK, SUBACK, a PUBACK, a twin response)
    /// before it gives up and, for a PUBACK, drops the connection and reconnects: how soon it notices a hub that went
    /// silent while it keeps sending.
    /// </summary>
    public TimeSpan OperationTimeout { get; init; } = DefaultOperationTimeout;

    /// <summary>Connect here instead of the hub's host name (the SDKs' gateway_hostname); the SAS token still names the hub.</summary>
    public string? GatewayHostName { get; init; }

    /// <summary>TLS versions, cipher suites and the CA the hub's certificate must chain to.</summary>
    public TlsSpec Tls { get; init; } = TlsSpec.Default;

    /// <summary>Proxy for every connection of the group's devices; null connects directly.</summary>
    public ProxyOptions? Proxy { get; init; }

    /// <summary>Devices of this group whose transitions and errors go to the run's debug log.</summary>
    public IReadOnlyList<string> DebugDevices { get; init; } = [];

    /// <summary>Devices created from device connection strings (their ids and keys); null: FleetSim registers the group's devices.</summary>
    public DeviceConnectionStrings? ConnectionStrings { get; init; }

    /// <summary>The devices' own X.509 certificates (x509 groups); null: FleetSim makes a self-signed one per device.</summary>
    public CertificateFolder? Certificates { get; init; }

    /// <summary>Device id of the device with this 0-based index in the group.</summary>
    public string DeviceId(int index) => Ids.Format(index);
}

/// <summary>TLS settings of a group. None/null values let the OS and the system trust store decide.</summary>
public sealed record TlsSpec(SslProtocols Versions, IReadOnlyList<TlsCipherSuite>? CipherSuites, TrustedCaFile? TrustedCa)
{
    public static TlsSpec Default { get; } = new(SslProtocols.None, null, null);
}

/// <summary>A CA certificate read from a PEM file (the SDKs' server_verification_cert).</summary>
public sealed record TrustedCaFile(string Path, string Pem);

/// <summary>
/// Devices given by device connection strings (the SDKs' create_from_connection_string), one per line of a file.
/// Keys are secrets: <see cref="ToString"/> shows only the file and the count.
/// </summary>
public sealed record DeviceConnectionStrings(string Path, IReadOnlyList<FleetSim.Protocol.DeviceConnectionString> Entries)
{
    /// <summary>Whether the devices authenticate with X.509 certificates (x509=true strings) rather than keys.</summary>
    public bool UsesX509 => Entries[0].UsesX509;

    /// <summary>The GatewayHostName the strings share, without a port; null when they name none.</summary>
    public string? GatewayHost => Entries[0].GatewayHostName is { } gateway ? SplitHostAndPort(gateway).Host : null;

    /// <summary>The port in the strings' GatewayHostName (host:PORT, as the SDKs accept it), if any.</summary>
    public int? GatewayPort => Entries[0].GatewayHostName is { } gateway ? SplitHostAndPort(gateway).Port : null;

    /// <summary>Splits host:port; a value without one (or an IPv6 address) is all host.</summary>
    public static (string Host, int? Port) SplitHostAndPort(string gateway)
    {
        var colon = gateway.LastIndexOf(':');
        return colon > 0 && gateway.IndexOf(':') == colon
            && int.TryParse(gateway.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            ? (gateway[..colon], port)
            : (gateway, null);
    }

    public override string ToString() => $"{Path} ({Entries.Count} devices)";
}

public enum CredentialKind { SymmetricKey, SasToken, X509 }

public enum TransportKind { Mqtt, MqttWebSockets }

public enum RetryPolicyKind { Exponential, Fixed, None }

/// <summary>Reconnect policy. BaseDelay/MaxDelay apply to Exponential (full jitter), Interval to Fixed, AutoConnect to None.</summary>
public sealed record RetrySpec(RetryPolicyKind Policy, TimeSpan BaseDelay, TimeSpan MaxDelay, TimeSpan Interval)
{
    /// <summary>The SDKs' auto_connect: with policy None, connect again when the next operation is due (instead of stopping).</summary>
    public bool AutoConnect { get; init; } = true;

    public static RetrySpec Default { get; } =
        new(RetryPolicyKind.Exponential, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
}

public enum DisconnectedPolicy { Queue, Drop }

/// <summary>Telemetry kept while disconnected: up to Capacity messages (Queue) or none (Drop); overflow is counted as dropped.</summary>
public sealed record TelemetryQueue(int Capacity, DisconnectedPolicy WhenDisconnected)
{
    public static TelemetryQueue Default { get; } = new(1000, DisconnectedPolicy.Queue);
}

/// <summary>
/// Device-to-cloud telemetry. Interval is per device; Jitter delays each device's first send by a seeded
/// random 0..Jitter. Properties values are templates rendered per message.
/// </summary>
public sealed record TelemetrySpec(
    TimeSpan Interval,
    TimeSpan Jitter,
    PayloadTemplate Payload,
    IReadOnlyList<KeyValuePair<string, PayloadTemplate>> Properties,
    string? ContentType,
    string? ContentEncoding,
    TelemetryQueue Queue,
    int InFlight)
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(1);
    public const int DefaultInFlight = 16;
    public const string DefaultPayload = "{\"n\": \"{{counter}}\"}";

    public double RatePerSecond => TimeSpan.TicksPerSecond / (double)Interval.Ticks;
}

/// <summary>Reported-property patches at an interval (Template renders a JSON object).</summary>
public sealed record ReportedSpec(TimeSpan Interval, PayloadTemplate Template);

/// <summary>How a device answers a direct method: status, optional payload template, delay before answering.</summary>
public sealed record MethodHandlerSpec(int Status, PayloadTemplate? Payload, TimeSpan Delay)
{
    public static MethodHandlerSpec DefaultUnknown { get; } = new(404, null, TimeSpan.Zero);
}

/// <summary>Desired-property handling: ReportBack reports each received desired value back.</summary>
public sealed record DesiredSpec(bool ReportBack)
{
    /// <summary>The SDKs' ensure_desired_properties: GET the twin after every (re)connect.</summary>
    public bool EnsureDesiredProperties { get; init; } = true;
}

/// <summary>C2D handling: Ack completes each message (PUBACK); false leaves it to be redelivered.</summary>
public sealed record C2dSpec(bool Ack);

/// <summary>File uploads of SizeBytes every Interval.</summary>
public sealed record FileUploadSpec(TimeSpan Interval, int SizeBytes)
{
    public const int MaxSizeBytes = 256 * 1024 * 1024;
}

/// <summary>
/// A folder of device certificates with their private keys: <c>{deviceId}.pem</c> (certificate and key) or
/// <c>{deviceId}.cert.pem</c> + <c>{deviceId}.key.pem</c>. Files are read when the run starts, not kept in the scenario.
/// </summary>
public sealed record CertificateFolder(string Path)
{
    /// <summary>The certificate and key files of a device, or null when the folder has neither form.</summary>
    public (string Certificate, string Key)? FilesOf(string deviceId)
    {
        var combined = System.IO.Path.Combine(Path, deviceId + ".pem");
        if (File.Exists(combined))
        {
            return (combined, combined);
        }
        var certificate = System.IO.Path.Combine(Path, deviceId + ".cert.pem");
        var key = System.IO.Path.Combine(Path, deviceId + ".key.pem");
        return File.Exists(certificate) && File.Exists(key) ? (certificate, key) : null;
    }

    /// <summary>Loads a device's certificate with its private key, usable for TLS client authentication.</summary>
    /// <exception cref="InvalidOperationException">The files are missing or do not hold a certificate and a matching key.</exception>
    public System.Security.Cryptography.X509Certificates.X509Certificate2 Load(string deviceId)
    {
        var files = FilesOf(deviceId)
            ?? throw new InvalidOperationException($"no certificate for device '{deviceId}' in {Path} (expected {deviceId}.pem, or {deviceId}.cert.pem and {deviceId}.key.pem)");
        try
        {
            using var loaded = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(files.Certificate, files.Key);
            // Through PKCS#12 so SslStream can use the key on every platform.
            return System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(
                loaded.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or ArgumentException or IOException)
        {
            throw new InvalidOperationException($"the certificate of device '{deviceId}' ({files.Certificate}) cannot be used: {e.Message.TrimEnd('.')}; expected PEM with a CERTIFICATE and its PRIVATE KEY", e);
        }
    }
}
