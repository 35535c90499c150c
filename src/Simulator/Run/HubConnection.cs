using System.Security.Cryptography.X509Certificates;
using FleetSim.HubEmulator;
using FleetSim.HubEmulator.Throttling;
using FleetSim.Protocol;
using FleetSim.Protocol.Tiers;
using FleetSim.Metrics;
using FleetSim.Reporting;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Running;
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

    /// <summary>The embedded hub when it is split over partition processes (then <see cref="Emulator"/> is null).</summary>
    public Hub.PartitionedHub? Partitioned { get; private init; }

    /// <summary>A partitioned hub's partitions (embedded, or from a state file): each device connects to its own. Empty otherwise.</summary>
    public IReadOnlyList<PartitionEndpoint> Partitions { get; private init; } = [];

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

    /// <summary>
    /// Starts the embedded emulator split over <paramref name="partitions"/> processes (hub.embedded.partitions): the
    /// REST front in this process, the partitions as children that exit with it; quotas split evenly over them.
    /// </summary>
    public static async Task<HubConnection> StartPartitionedAsync(EmulatorOptions options, int partitions, TextWriter log, CancellationToken ct, HubTier? tier = null)
    {
        var hub = await Hub.PartitionedHub.StartAsync(new Hub.PartitionedHubOptions(partitions)
        {
            SasExpiryGrace = options.SasExpiryGrace,
            Quotas = Quotas(options.Quotas, tier ?? options.Tier),
        }, log, ct);
        var ca = X509Certificate2.CreateFromPem(hub.CaCertificatePem);
        var connection = ServiceConnectionString.Parse(hub.ServiceConnectionString);
        return new HubConnection(HubKinds.Embedded, connection, new HubEndpoint(new UriBuilder("https", "127.0.0.1", hub.HttpsPort).Uri, ca),
            hub.Partitions[0].Host, hub.Partitions[0].MqttPort, hub.HttpsPort, ca, null)
        {
            Partitioned = hub,
            Partitions = [.. hub.Partitions.Select(static p => new PartitionEndpoint(p.Host, p.MqttPort, p.HttpsPort))],
        };
    }

    /// <summary>An existing hub: REST on https://{HostName}:{httpsPort}, MQTT on {HostName}:{mqttPort}, the given CA or the system trust store.</summary>
    public static HubConnection External(ServiceConnectionString connection, int mqttPort = ConnectionStringHub.DefaultMqttPort,
        int httpsPort = ConnectionStringHub.DefaultHttpsPort, string? trustedCaPem = null)
    {
        var ca = trustedCaPem is null ? null : X509Certificate2.CreateFromPem(trustedCaPem);
        return new(HubKinds.External, connection, HubEndpoint.ForHost(connection.HostName, httpsPort, ca), connection.HostName, mqttPort, httpsPort, ca, null);
    }

    /// <summary>The hub a scenario names by its service connection string, on its ports, trusting its CA.</summary>
    public static HubConnection External(ConnectionStringHub hub)
    {
        var connection = External(hub.ConnectionString, hub.MqttPort, hub.HttpsPort, hub.TrustedCa?.Pem);
        return hub.Partitions.Count == 0 ? connection : new HubConnection(connection.Kind, connection.Connection, connection.Rest, connection.MqttHost,
            connection.MqttPort, connection.HttpsPort, connection.TrustedCa, null) { Partitions = hub.Partitions };
    }

    public async ValueTask DisposeAsync()
    {
        if (Emulator is not null)
            await Emulator.DisposeAsync();
        if (Partitioned is not null)
            await Partitioned.DisposeAsync();
        TrustedCa?.Dispose();
    }
}
