using System.Net;
using FleetSim.HubEmulator.Throttling;

namespace FleetSim.HubEmulator;

/// <summary>
/// Where and how the embedded IoT Hub listens. Defaults mirror a real hub (MQTT 8883, HTTPS 443, host name
/// "localhost") so unmodified SDKs find it; tests pass 0 for the ports to get free ones.
/// </summary>
public sealed class HubEmulatorOptions
{
    /// <summary>The hub host name devices put in their username and SAS resource (<c>{host}/devices/{id}</c>).</summary>
    public string HostName { get; set; } = "localhost";

    public IPAddress BindAddress { get; set; } = IPAddress.Loopback;

    /// <summary>MQTT over TLS port; 0 picks a free port (read it back from <see cref="IoTHubEmulator.MqttPort"/>).</summary>
    public int MqttPort { get; set; } = 8883;

    /// <summary>HTTPS service API (and MQTT over WebSockets) port; 0 picks a free port.</summary>
    public int HttpsPort { get; set; } = 443;

    /// <summary>Folder for ca.pem and uploaded blobs; a new temporary folder when null.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>How long after a device's SAS token expires the hub closes its connection (the real hub: about 10 minutes).</summary>
    public TimeSpan SasExpiryGrace { get; set; } = TimeSpan.Zero;

    /// <summary>The iothubowner policy key (base64); generated when null. Fixing it lets a restarted hub keep its connection string.</summary>
    public string? ServiceKey { get; set; }

    /// <summary>
    /// A PKCS#12 file with the CA and server certificate to use instead of fresh ones
    /// (<see cref="Certificates.EmulatorCertificates.Export"/>): the partitions of one partitioned hub share them.
    /// </summary>
    public string? CertificatesFile { get; set; }

    /// <summary>
    /// How many recent telemetry messages to keep per device for inspection (<see cref="IoTHubEmulator.Telemetry"/>,
    /// <c>GET /fleetsim/devices/{id}/messages</c>); 0 (default) keeps none, as a load test should.
    /// </summary>
    public int RecordTelemetryPerDevice { get; set; }

    /// <summary>Hub-wide throttling quotas (connects, telemetry, twin operations per second); all unlimited by default.</summary>
    public ThrottlingQuotas Quotas { get; set; } = new();

    /// <summary>How many of the newest uploaded blobs keep their bytes on disk (older ones keep only length and SHA-256).</summary>
    public int KeptBlobs { get; set; } = 100;

    /// <summary>How many file upload records the hub keeps (the oldest are forgotten first).</summary>
    public int KeptUploadRecords { get; set; } = 10_000;

    /// <summary>Clock for token expiry checks, expiry disconnects and the throttling quotas.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad option.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(HostName) || HostName.Contains('/') || HostName.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"HostName '{HostName}' is not a host name: expected something like 'localhost' or 'myhub.azure-devices.net'.", nameof(HostName));
        }

        ArgumentNullException.ThrowIfNull(BindAddress);
        CheckPort(MqttPort, nameof(MqttPort));
        CheckPort(HttpsPort, nameof(HttpsPort));
        if (SasExpiryGrace < TimeSpan.Zero)
        {
            throw new ArgumentException($"SasExpiryGrace must not be negative (was {SasExpiryGrace}).", nameof(SasExpiryGrace));
        }

        if (ServiceKey is not null && !IsBase64Key(ServiceKey))
        {
            throw new ArgumentException("ServiceKey must be a base64 key of 16 to 64 bytes.", nameof(ServiceKey));
        }

        if (RecordTelemetryPerDevice is < 0 or > 10_000)
        {
            throw new ArgumentException($"RecordTelemetryPerDevice must be between 0 and 10000 (was {RecordTelemetryPerDevice}).", nameof(RecordTelemetryPerDevice));
        }

        if (KeptBlobs < 0 || KeptUploadRecords < 1)
        {
            throw new ArgumentException($"KeptBlobs must not be negative and KeptUploadRecords must be positive (were {KeptBlobs}, {KeptUploadRecords}).", nameof(KeptBlobs));
        }

        ArgumentNullException.ThrowIfNull(Quotas);
        Quotas.Validate();
        ArgumentNullException.ThrowIfNull(TimeProvider);
    }

    internal static bool IsBase64Key(string key)
    {
        Span<byte> buffer = stackalloc byte[96];
        return Convert.TryFromBase64String(key, buffer, out var written) && written is >= 16 and <= 64;
    }

    private static void CheckPort(int port, string name)
    {
        if (port is < 0 or > 65535)
        {
            throw new ArgumentException($"{name} must be between 0 (pick a free port) and 65535 (was {port}).", name);
        }
    }
}
