using System.Security.Cryptography.X509Certificates;
using System.Text;
using FleetSim.DeviceActors;
using FleetSim.DeviceActors.Files;
using FleetSim.DeviceActors.Methods;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Twin;
using FleetSim.Protocol;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Templates;
using DeviceGroup = FleetSim.Scenarios.Model.DeviceGroup;

namespace FleetSim.Scenarios.Running;

/// <summary>Where the devices connect, as the run resolved it (embedded emulator or a real hub).</summary>
public sealed record DeviceEndpoint(string HostName, string MqttHost, int MqttPort, int HttpsPort, X509Certificate2? TrustedCa)
{
    /// <summary>
    /// The partitions of an emulated hub split over several processes, in partition order; empty for one hub endpoint.
    /// A device connects to partition <see cref="FleetSim.Protocol.HubPartitions.PartitionOf"/>(its id, count) instead
    /// of <see cref="MqttHost"/>:<see cref="MqttPort"/>.
    /// </summary>
    public IReadOnlyList<PartitionEndpoint> Partitions { get; init; } = [];

    /// <summary>The chaos proxy MQTT over TCP goes through (<c>hub.chaos</c>), TLS still end to end with the hub; null: direct.</summary>
    public System.Net.DnsEndPoint? Relay { get; init; }
}

/// <summary>One partition of an emulated hub: its own MQTT/TLS and HTTPS (WebSockets, file upload) listeners.</summary>
public sealed record PartitionEndpoint(string MqttHost, int MqttPort, int HttpsPort);

/// <summary>
/// Turns each scenario device group into the device side's <see cref="DeviceOptions"/>, once per group: templates
/// adapted to payload factories, retry and SAS settings, behaviours. Everything per device stays out of here.
/// </summary>
public static class FleetPlanBuilder
{
    /// <param name="runId">Sent with every telemetry message (fleetsim-run) so the hub accounts the run apart from others.</param>
    /// <param name="pacing">
    /// The run's pacing to a hub tier: telemetry at the paced interval, and each device's first message spread over that
    /// interval (at least), since the first message of a device connecting at the paced connect rate would otherwise add
    /// the connect rate to the send rate.
    /// </param>
    public static FleetPlan Build(Scenario scenario, DeviceEndpoint endpoint, IReadOnlyList<GroupCredentials> credentials, TimeProvider? time = null,
        string? runId = null, Load.LoadPacing? pacing = null)
    {
        time ??= TimeProvider.System;
        // One limit for the whole process, shared by its groups: the handshakes of all groups compete for the same CPU.
        var slots = new ConnectSlots(scenario.ConnectsInFlight ?? ConnectSlots.DefaultLimit);
        var groups = new List<GroupPlan>(scenario.DeviceGroups.Count);
        var offset = 0;
        for (var g = 0; g < scenario.DeviceGroups.Count; g++)
        {
            var group = scenario.DeviceGroups[g];
            var seed = DeviceSeed.Derive(scenario.Seed, offset, 97 + g); // groups differ even at equal device indexes
            var connected = new ConnectedDevices(group.Count);
            var options = Options(group, endpoint, seed, time) with { ConnectionObserver = connected, GroupName = group.Name, RunId = runId, ConnectSlots = slots };
            if (pacing is { TelemetryPaced: true } && options.Telemetry is { } telemetry)
            {
                var paced = pacing.PacedInterval(telemetry.Interval);
                options = options with { Telemetry = telemetry with { Interval = paced, StartJitter = telemetry.StartJitter > paced ? telemetry.StartJitter : paced } };
            }

            if (group.Credential == CredentialKind.SasToken)
                options = options with { SasTokenProvider = new KeyedTokenProvider(endpoint.HostName, credentials[g].Keys!, group.SasTtl, time) };
            groups.Add(new GroupPlan(options, group.DeviceId, credentials[g], group.Credential, connected));
            offset += group.Count;
        }

        return new FleetPlan(groups);
    }

    public static DeviceOptions Options(DeviceGroup group, DeviceEndpoint endpoint, int seed, TimeProvider time)
    {
        var ws = group.Transport == TransportKind.MqttWebSockets;
        return new DeviceOptions
        {
            HostName = endpoint.HostName,
            // The scenario's gateway wins over the connection strings' GatewayHostName, which wins over the hub itself.
            EndpointHost = group.GatewayHostName ?? group.ConnectionStrings?.GatewayHost ?? endpoint.MqttHost,
            // A GatewayHostName=host:PORT in the strings moves MQTT over TLS to that port (WebSockets stay on HTTPS).
            EndpointPort = ws ? endpoint.HttpsPort : group.GatewayHostName is null && group.ConnectionStrings?.GatewayPort is { } port ? port : endpoint.MqttPort,
            // A partitioned emulator: each device connects to its partition (unless the scenario names a gateway of its own).
            Partitions = group.GatewayHostName is null && group.ConnectionStrings?.GatewayHost is null
                ? [.. endpoint.Partitions.Select(static p => new DeviceActors.Transport.HubPartitionEndpoint(p.MqttHost, p.MqttPort, p.HttpsPort))]
                : [],
            TrustedCa = group.Tls.TrustedCa is { } ca ? X509Certificate2.CreateFromPem(ca.Pem) : endpoint.TrustedCa,
            TlsProtocols = group.Tls.Versions,
            CipherSuites = group.Tls.CipherSuites,
            Proxy = group.Proxy,
            Relay = ws ? null : endpoint.Relay,
            DebugDeviceIds = new HashSet<string>(group.DebugDevices, StringComparer.Ordinal),
            Transport = ws ? DeviceTransportKind.MqttWebSockets : DeviceTransportKind.Mqtt,
            KeepAlive = group.KeepAlive,
            OperationTimeout = group.OperationTimeout,
            SasTtl = group.SasTtl,
            SasRenewalMargin = group.SasRenewalMargin,
            Retry = Retry(group.Retry),
            AutoConnect = group.Retry.AutoConnect,
            Seed = seed,
            ProductInfo = group.ProductInfo ?? "FleetSim/1.0",
            ModelId = group.ModelId,
            Telemetry = group.Telemetry is { } t ? Telemetry(group, t, seed, time) : null,
            Twin = group.Reported is not null || group.Desired is not null
                ? new TwinOptions
                {
                    ReportDesiredBack = group.Desired?.ReportBack ?? false,
                    EnsureDesiredProperties = group.Desired?.EnsureDesiredProperties ?? true,
                    ReportedInterval = group.Reported?.Interval,
                    ReportedPatch = group.Reported is { } r ? new TemplatePayload(r.Template, group.Count, group.DeviceId, seed, DeviceSeed.Reported, time) : null,
                }
                : null,
            Methods = group.Methods.Count > 0 ? Methods(group, seed, time) : null,
            C2d = group.C2d is { } c2d ? new C2dOptions { Acknowledge = c2d.Ack } : null,
            FileUpload = group.FileUpload is { } f ? new FileUploadOptions { Interval = f.Interval, SizeBytes = f.SizeBytes, HttpsPort = endpoint.HttpsPort } : null,
            Time = time,
        };
    }

    /// <summary>A message the generator could not start within this of its time is counted as generator.skipped, not queued.</summary>
    public static readonly TimeSpan GeneratorMaxSendLag = TimeSpan.FromSeconds(1);

    private static TelemetryOptions Telemetry(DeviceGroup group, TelemetrySpec t, int seed, TimeProvider time)
    {
        // Constant values are encoded once per group; values with generators are rendered for every message.
        var properties = new List<KeyValuePair<string, string?>>(t.Properties.Count);
        var dynamic = new List<KeyValuePair<string, PayloadTemplate>>();
        foreach (var (name, template) in t.Properties)
        {
            if (template.IsConstant)
                properties.Add(new(name, template.RenderToString(template.CreateState(group.DeviceId(0), seed, time.GetUtcNow()), time.GetUtcNow())));
            else
                dynamic.Add(new(name, template));
        }

        return new TelemetryOptions
        {
            Interval = t.Interval,
            Payload = new TemplatePayload(t.Payload, group.Count, group.DeviceId, seed, DeviceSeed.Telemetry, time),
            StartJitter = t.Jitter,
            ContentType = t.ContentType,
            ContentEncoding = t.ContentEncoding,
            Properties = properties,
            DynamicProperties = dynamic.Count > 0 ? new TemplateProperties(dynamic, group.Count, group.DeviceId, seed, time) : null,
            InFlightWindow = t.InFlight,
            OfflineQueueCapacity = t.Queue.Capacity,
            OfflinePolicy = t.Queue.WhenDisconnected == DisconnectedPolicy.Drop ? OfflinePolicy.Drop : OfflinePolicy.Queue,
            MaxSendLag = GeneratorMaxSendLag,
        };
    }

    private static MethodOptions Methods(DeviceGroup group, int seed, TimeProvider time)
    {
        var handlers = new Dictionary<string, MethodBehavior>(StringComparer.Ordinal);
        foreach (var (name, spec) in group.Methods)
            handlers[name] = Behavior(group, spec, seed, time);
        return new MethodOptions { Handlers = handlers, Unknown = Behavior(group, group.UnknownMethod, seed, time) };
    }

    /// <summary>A constant payload is encoded once; a template with generators is rendered for every answer, per device.</summary>
    private static MethodBehavior Behavior(DeviceGroup group, MethodHandlerSpec spec, int seed, TimeProvider time)
    {
        if (spec.Payload is not { } template)
            return new MethodBehavior(spec.Status, null, spec.Delay);
        if (template.IsConstant)
            return new MethodBehavior(spec.Status, template.RenderToString(template.CreateState(group.DeviceId(0), seed, time.GetUtcNow()), time.GetUtcNow()), spec.Delay);
        return new MethodBehavior(spec.Status, template.Source, spec.Delay)
        {
            PayloadFactory = new TemplatePayload(template, group.Count, group.DeviceId, seed, DeviceSeed.Methods, time),
        };
    }

    private static RetryPolicy Retry(RetrySpec spec) => spec.Policy switch
    {
        RetryPolicyKind.None => RetryPolicy.None,
        RetryPolicyKind.Fixed => RetryPolicy.Fixed with { FixedInterval = spec.Interval },
        _ => RetryPolicy.Exponential with { Base = spec.BaseDelay, Cap = spec.MaxDelay },
    };
}
