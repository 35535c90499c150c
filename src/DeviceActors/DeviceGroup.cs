using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Transport;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors;

/// <summary>
/// What every device of one group shares, computed once: the options, the metric instruments, the transport
/// factory, the encoded static part of the telemetry topic and the subscriptions the behaviours need.
/// </summary>
public sealed class DeviceGroup : IDisposable
{
    private readonly Lazy<HttpClient> _http;

    public DeviceGroup(DeviceOptions options, DeviceMetrics metrics, IDeviceTransportFactory? transports = null)
    {
        var errors = options.Validate();
        if (errors.Count > 0)
            throw new ArgumentException(string.Join("; ", errors), nameof(options));
        Options = options;
        Metrics = metrics;
        if (options.GroupName is { } name)
            GroupCounters = new GroupCounters(metrics.Fleet, name);
        Transports = transports ?? new MqttDeviceTransportFactory();

        var telemetry = options.Telemetry;
        var properties = new List<KeyValuePair<string, string?>>();
        if (telemetry?.ContentType is { } ct) properties.Add(new(SystemProperties.ContentType, ct));
        if (telemetry?.ContentEncoding is { } ce) properties.Add(new(SystemProperties.ContentEncoding, ce));
        if (telemetry is not null) properties.AddRange(telemetry.Properties);
        if (telemetry is not null && options.RunId is { } runId) properties.Add(new(FleetSimProperties.Run, runId));
        TelemetrySuffix = properties.Count == 0 ? "" : "&" + PropertyBag.Encode(properties);
        StaticPropertyBytes = MessageLimits.MessageSize(0, properties)
            + Encoding.UTF8.GetByteCount(FleetSimProperties.Sequence) + Encoding.UTF8.GetByteCount(FleetSimProperties.SentAt);

        var subscriptions = Subscriptions.None;
        if (options.C2d is not null) subscriptions |= Subscriptions.C2d;
        if (options.Methods is not null) subscriptions |= Subscriptions.Methods;
        if (options.Twin is not null) subscriptions |= Subscriptions.TwinResponses | Subscriptions.TwinDesired;
        Subscriptions = subscriptions;
        UploadBody = new byte[options.FileUpload?.SizeBytes ?? 0];
        if (telemetry is not null)
            TelemetryScheduler = options.TelemetryScheduler ?? (options.Time == TimeProvider.System ? PreciseTelemetryScheduler.Shared : null);
        _http = new Lazy<HttpClient>(() => CreateHttpClient(options));
    }

    public DeviceOptions Options { get; }

    public DeviceMetrics Metrics { get; }

    /// <summary>Per-group counters, when the options name the group.</summary>
    public GroupCounters? GroupCounters { get; }

    public IDeviceTransportFactory Transports { get; }

    /// <summary>"&amp;%24.ct=…&amp;…": the encoded properties every telemetry message carries after fleetsim-seq and fleetsim-sent (fleetsim-run among them).</summary>
    internal string TelemetrySuffix { get; }

    /// <summary>Bytes the static properties and the two FleetSim property names add to each message's size (MessageLimits rule).</summary>
    internal int StaticPropertyBytes { get; }

    internal Subscriptions Subscriptions { get; }

    /// <summary>Wakes the group's devices for telemetry; null: each device's Akka timer (virtual time).</summary>
    internal ITelemetryScheduler? TelemetryScheduler { get; }

    /// <summary>HTTPS client for the file uploads of SAS devices, shared by the group, trusting what the MQTT connection trusts.</summary>
    internal HttpClient Http => _http.Value;

    internal ReadOnlyMemory<byte> UploadBody { get; }

    public void Dispose()
    {
        if (_http.IsValueCreated)
            _http.Value.Dispose();
    }

    /// <summary>
    /// An HTTPS client trusting what the MQTT connection trusts and going through the group's proxy. With a client
    /// certificate it authenticates an X.509 device by TLS client authentication, as the SDKs do for file uploads;
    /// such a client belongs to that one device (the group's shared client has no certificate).
    /// </summary>
    internal HttpClient CreateHttpClient(X509Certificate2? clientCertificate) => CreateHttpClient(Options, clientCertificate);

    private static HttpClient CreateHttpClient(DeviceOptions options, X509Certificate2? clientCertificate = null)
    {
        var validator = ServerCertificateValidator.For(options);
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => validator.Check(certificate, errors) is null,
                ClientCertificates = clientCertificate is null ? null : new X509CertificateCollection { clientCertificate },
            },
        };
        if (options.Proxy is { } proxy)
        {
            handler.UseProxy = true;
            handler.Proxy = new WebProxy(proxy.Address)
            {
                BypassProxyOnLocal = false, // a hub on this machine is reached through the proxy too
                Credentials = proxy.UserName is null ? null : new NetworkCredential(proxy.UserName, proxy.Password),
            };
        }

        return new HttpClient(handler) { Timeout = options.OperationTimeout };
    }
}

/// <summary>A group's own telemetry, error and connection counts (beside the fleet-wide ones).</summary>
public sealed class GroupCounters(FleetSim.Metrics.FleetMetrics metrics, string group)
{
    public FleetSim.Metrics.Counter Sent { get; } = metrics.Counter(FleetSim.Metrics.GroupMetrics.TelemetrySent(group));

    public FleetSim.Metrics.Counter Acked { get; } = metrics.Counter(FleetSim.Metrics.GroupMetrics.TelemetryAcked(group));

    public FleetSim.Metrics.Counter Resent { get; } = metrics.Counter(FleetSim.Metrics.GroupMetrics.TelemetryResent(group));

    public FleetSim.Metrics.Counter Dropped { get; } = metrics.Counter(FleetSim.Metrics.GroupMetrics.TelemetryDropped(group));

    public FleetSim.Metrics.Counter Errors { get; } = metrics.Counter(FleetSim.Metrics.GroupMetrics.Errors(group));

    public FleetSim.Metrics.Gauge Connected { get; } = metrics.Gauge(FleetSim.Metrics.GroupMetrics.DevicesConnected(group));
}
