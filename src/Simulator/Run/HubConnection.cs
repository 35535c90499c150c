using System.Security.Cryptography.X509Certificates;
using FleetSim.HubEmulator;
using FleetSim.HubEmulator.Throttling;
using FleetSim.Protocol;
using FleetSim.Protocol.Tiers;
using FleetSim.Metrics;
using FleetSim.Reporting;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Service;

namespace FleetSim.Simulator.Run;

/// <summary>
/// The hub a run talks to: the embedded emulator started for the run (and stopped after it), or an existing hub
/// named by its service connection string. Either way the rest of the run sees the same thing: a service
/// connection string, where the REST API and MQTT are, and which CA to trust.
/// </summary>
public sealed class HubConnection : IAsyncDisposable
{
    private HubConnection(string kind, ServiceConnectionString connection, HubEndpoint rest, string mqttHost, int mqttPort,
        int httpsPort, X509Certificate2? trustedCa, IoTHubEmulator? emulator)
    {
        HttpsPort = httpsPort;
        Kind = kind;
        Connection = connection;
        Rest = rest;
        MqttHost = mqttHost;
        MqttPort = mqttPort;
        TrustedCa = trustedCa;
        Emulator = emulator;
    }

    /// <summary><see cref="HubKinds.Embedded"/> or <see cref="HubKinds.External"/>.</summary>
    public string Kind { get; }

    public ServiceConnectionString Connection { get; }

    public HubEndpoint Rest { get; }

    public string HostName => Connection.HostName;

    public string MqttHost { get; }

    public int MqttPort { get; }

    /// <summary>HTTPS: REST API, file upload and MQTT over WebSockets.</summary>
    public int HttpsPort { get; }

    public X509Certificate2? TrustedCa { get; }

    public IoTHubEmulator? Emulator { get; }

    /// <summary>Starts the embedded emulator on free loopback ports, with the scenario's throttling quotas.</summary>
    public static async Task<HubConnection> StartEmbeddedAsync(EmulatorOptions options, CancellationToken ct, HubTier? tier = null)
    {
        var hub = await IoTHubEmulator.StartAsync(new HubEmulatorOptions
        {
            HostName = "localhost",
            MqttPort = 0,
            HttpsPort = 0,
            SasExpiryGrace = options.SasExpiryGrace,
            Quotas = Quotas(options.Quotas, tier ?? options.Tier),
        }, null, ct);
        var ca = X509Certificate2.CreateFromPem(hub.CaCertificatePem);
        var connection = ServiceConnectionString.Parse(hub.ServiceConnectionString);
        // The certificate names localhost and 127.0.0.1; connecting by address avoids a ::1 detour.
        return new HubConnection(HubKinds.Embedded, connection, new HubEndpoint(new UriBuilder("https", "127.0.0.1", hub.HttpsPort).Uri, ca),
            "127.0.0.1", hub.MqttPort, hub.HttpsPort, ca, hub);
    }

    /// <summary>The emulator's quotas: the tier's throttles (when shaped like a tier), each overridden by an explicit quota.</summary>
    public static ThrottlingQuotas Quotas(HubQuotas explicitQuotas, HubTier? tier)
    {
        var quotas = tier is null ? new ThrottlingQuotas() : ThrottlingQuotas.ForTier(tier);
        quotas.ConnectsPerSecond = explicitQuotas.ConnectsPerSecond ?? quotas.ConnectsPerSecond;
        quotas.TelemetryPerSecond = explicitQuotas.TelemetryPerSecond ?? quotas.TelemetryPerSecond;
        quotas.TwinOperationsPerSecond = explicitQuotas.TwinOperationsPerSecond ?? quotas.TwinOperationsPerSecond;
        return quotas;
    }

    /// <summary>An existing hub: REST on https://{HostName}:{httpsPort}, MQTT on {HostName}:{mqttPort}, the given CA or the system trust store.</summary>
    public static HubConnection External(ServiceConnectionString connection, int mqttPort = ConnectionStringHub.DefaultMqttPort,
        int httpsPort = ConnectionStringHub.DefaultHttpsPort, string? trustedCaPem = null)
    {
        var ca = trustedCaPem is null ? null : X509Certificate2.CreateFromPem(trustedCaPem);
        return new(HubKinds.External, connection, HubEndpoint.ForHost(connection.HostName, httpsPort, ca), connection.HostName, mqttPort, httpsPort, ca, null);
    }

    /// <summary>The hub a scenario names by its service connection string, on its ports, trusting its CA.</summary>
    public static HubConnection External(ConnectionStringHub hub) =>
        External(hub.ConnectionString, hub.MqttPort, hub.HttpsPort, hub.TrustedCa?.Pem);

    public async ValueTask DisposeAsync()
    {
        if (Emulator is not null)
            await Emulator.DisposeAsync();
        TrustedCa?.Dispose();
    }
}
