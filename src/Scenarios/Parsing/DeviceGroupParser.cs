using FleetSim.Scenarios.Model;
using YamlDotNet.RepresentationModel;

namespace FleetSim.Scenarios.Parsing;

/// <summary>One device group (or the short form's single group): identity, connection options and behaviours.</summary>
internal static class DeviceGroupParser
{
    private static readonly TimeSpan MaxKeepAlive = TimeSpan.FromSeconds(1177);
    private static readonly TimeSpan MaxOperationTimeout = TimeSpan.FromMinutes(10);

    public static DeviceGroup? Parse(ParseContext ctx, YamlNode node, string what, HubSpec? hub)
    {
        var g = ObjectReader.Open(ctx, node, "deviceGroup", what);
        if (g is null)
        {
            return null;
        }
        var name = g.String("name");
        if (name is not null && !DeviceIdRules.IsGroupName(name))
        {
            ctx.Error(g.Get("name")!, $"group name '{name}' may hold only letters, digits, '_', '.' and '-'");
            name = null;
        }
        var errorsBefore = ctx.Errors.Count;
        var connectionStrings = g.Get("connectionStrings") is { } csNode ? ConnectionParser.ConnectionStrings(ctx, csNode, g.Has("certificates")) : null;
        var count = g.Int("count", 1);
        DeviceIdPattern? ids;
        if (g.Has("connectionStrings"))
        {
            (count, ids) = FromConnectionStrings(ctx, g, connectionStrings, count, hub);
        }
        else
        {
            if (!g.Has("count"))
            {
                ctx.Error(node, $"{what}: missing required key 'count'", "the number of devices in the group (or connectionStrings: FILE to list them)");
            }
            ids = Ids(ctx, g, name ?? "group", count ?? 1);
        }
        var credential = g.Enum("credential", "credential") switch
        {
            "sasToken" => CredentialKind.SasToken,
            "x509" => CredentialKind.X509,
            _ => CredentialKind.SymmetricKey,
        };
        if (connectionStrings is { UsesX509: true })
        {
            credential = CredentialKind.X509;
        }
        CertificateFolder? certificates = null;
        if (g.Get("certificates") is { } certificatesNode)
        {
            if (credential != CredentialKind.X509 && !g.Has("connectionStrings"))
            {
                ctx.Error(g.KeyNode("certificates")!, "certificates apply only to x509 devices", "add credential: x509, or list x509=true connection strings");
            }
            else if (ids is not null && count is not null)
            {
                certificates = ConnectionParser.Certificates(ctx, certificatesNode, ids.Format, count.Value);
            }
        }
        var gateway = g.Get("gatewayHostName") is { } gw ? ConnectionParser.HostName(ctx, gw, "gatewayHostName") : null;
        var tls = g.Get("tls") is { } tlsNode ? ConnectionParser.Tls(ctx, tlsNode) : TlsSpec.Default;
        var proxy = g.Get("proxy") is { } proxyNode ? ConnectionParser.Proxy(ctx, proxyNode) : null;
        var debug = g.Get("debugDevices") is { } debugNode ? ConnectionParser.DebugDevices(ctx, debugNode) : [];
        if (debug is not null && ids is not null && count is not null)
        {
            foreach (var (id, idNode) in debug)
            {
                if (!ids.TryParseIndex(id, count.Value, out _))
                {
                    ctx.Error(idNode, $"debugDevices: '{id}' is not a device of group '{name}'", $"its ids are {ids.Format(0)} .. {ids.Format(count.Value - 1)}");
                }
            }
        }
        var transport = g.Enum("transport", "transport") == "mqtt-ws" ? TransportKind.MqttWebSockets : TransportKind.Mqtt;
        var keepAlive = g.Duration("keepAlive", TimeSpan.FromSeconds(1), MaxKeepAlive) ?? DeviceGroup.DefaultKeepAlive;
        var operationTimeout = g.Duration("operationTimeout", TimeSpan.FromSeconds(1), MaxOperationTimeout) ?? DeviceGroup.DefaultOperationTimeout;
        var modelId = g.String("modelId");
        if (modelId is not null && !modelId.StartsWith("dtmi:", StringComparison.Ordinal))
        {
            ctx.Error(g.Get("modelId")!, $"modelId '{modelId}' is not a DTDL model id", "e.g. dtmi:com:example:Thermostat;1");
        }
        var productInfo = g.String("productInfo");
        var retry = RetryParser.Parse(ctx, g.Get("retry"));
        var sasTtl = g.Duration("sasTtl", TimeSpan.FromSeconds(1)) ?? DeviceGroup.DefaultSasTtl;
        var margin = g.Duration("sasRenewalMargin") ?? DeviceGroup.DefaultSasRenewalMargin;
        if (credential == CredentialKind.X509)
        {
            foreach (var key in new[] { "sasTtl", "sasRenewalMargin" })
            {
                if (g.KeyNode(key) is { } keyNode)
                {
                    ctx.Error(keyNode, $"{key} applies only to symmetricKey and sasToken credentials", "x509 devices use no SAS token");
                }
            }
        }
        else if (margin >= sasTtl && (g.Has("sasTtl") || g.Has("sasRenewalMargin")))
        {
            ctx.Error(g.Get("sasRenewalMargin") ?? g.Get("sasTtl")!, $"sasRenewalMargin ({DurationText.Format(margin)}) must be less than sasTtl ({DurationText.Format(sasTtl)})",
                "the token is renewed sasRenewalMargin before it expires");
        }
        var telemetry = g.Get("telemetry") is { } t ? BehaviourParser.Telemetry(ctx, t) : null;
        var reported = g.Get("reported") is { } r ? BehaviourParser.Reported(ctx, r) : null;
        var methods = g.Get("methods") is { } m ? BehaviourParser.Methods(ctx, m) : new Dictionary<string, MethodHandlerSpec>();
        var unknown = g.Get("unknownMethod") is { } u ? BehaviourParser.Method(ctx, u, "unknownMethod", 404) : MethodHandlerSpec.DefaultUnknown;
        var desired = g.Get("desired") is { } d ? BehaviourParser.Desired(ctx, d) : null;
        var c2d = g.Get("c2d") is { } c ? BehaviourParser.C2d(ctx, c) : null;
        var upload = g.Get("fileUpload") is { } f ? BehaviourParser.FileUpload(ctx, f) : null;
        if (name is null || count is null || ids is null || methods is null || unknown is null || tls is null || debug is null
            || ctx.Errors.Count > errorsBefore
            || (g.Has("telemetry") && telemetry is null) || (g.Has("reported") && reported is null) || (g.Has("desired") && desired is null)
            || (g.Has("c2d") && c2d is null) || (g.Has("fileUpload") && upload is null))
        {
            return null;
        }
        return new DeviceGroup(name, count.Value, ids, credential, transport, keepAlive, modelId, productInfo, retry, sasTtl, margin,
            telemetry, reported, methods, unknown, desired, c2d, upload)
        {
            GatewayHostName = gateway,
            OperationTimeout = operationTimeout,
            Tls = tls,
            Proxy = proxy,
            DebugDevices = [.. debug.Select(d => d.Id).Distinct(StringComparer.Ordinal)],
            ConnectionStrings = connectionStrings,
            Certificates = certificates,
        };
    }

    /// <summary>
    /// A group listed in a connection-strings file: ids and keys come from the file (so idPattern, idPrefix and credential
    /// do not apply), count defaults to the number of devices and may not exceed it, and an existing hub must be the one
    /// the strings name.
    /// </summary>
    private static (int? Count, DeviceIdPattern? Ids) FromConnectionStrings(ParseContext ctx, ObjectReader g, DeviceConnectionStrings? strings, int? count, HubSpec? hub)
    {
        foreach (var key in new[] { "idPattern", "idPrefix", "credential" })
        {
            if (g.KeyNode(key) is { } keyNode)
            {
                ctx.Error(keyNode, $"{key} cannot be used with connectionStrings", "the connection strings give each device its id and key");
            }
        }
        if (strings is null)
        {
            return (null, null);
        }
        if (count > strings.Entries.Count)
        {
            ctx.Error(g.Get("count")!, $"count is {count}, but {strings.Path} lists {strings.Entries.Count} devices", "leave count out to use them all");
            return (null, null);
        }
        if (hub is ConnectionStringHub external && !string.Equals(external.ConnectionString.HostName, strings.Entries[0].HostName, StringComparison.OrdinalIgnoreCase))
        {
            ctx.Error(g.Get("connectionStrings")!, $"{strings.Path} names hub '{strings.Entries[0].HostName}', but the scenario's hub is '{external.ConnectionString.HostName}'",
                "the devices must belong to the hub named by hub.connectionString");
        }
        return (count ?? strings.Entries.Count, DeviceIdPattern.FromList("connectionStrings:" + strings.Path, [.. strings.Entries.Select(e => e.DeviceId)]));
    }

    /// <summary>The issue-2 short form: devices {count, idPrefix | idPattern} and top-level telemetry make one group.</summary>
    public static DeviceGroup? FromShortForm(ParseContext ctx, ObjectReader devices, YamlNode? telemetryNode)
    {
        var count = devices.Int("count", 1);
        var ids = Ids(ctx, devices, "device", count ?? 1);
        var telemetry = telemetryNode is null ? null : BehaviourParser.Telemetry(ctx, telemetryNode);
        if (count is null || ids is null || (telemetryNode is not null && telemetry is null))
        {
            return null;
        }
        return new DeviceGroup(ScenarioParser.ShortFormGroupName, count.Value, ids, CredentialKind.SymmetricKey, TransportKind.Mqtt,
            DeviceGroup.DefaultKeepAlive, null, null, RetrySpec.Default, DeviceGroup.DefaultSasTtl, DeviceGroup.DefaultSasRenewalMargin,
            telemetry, null, new Dictionary<string, MethodHandlerSpec>(), MethodHandlerSpec.DefaultUnknown, null, null, null);
    }

    private static DeviceIdPattern? Ids(ParseContext ctx, ObjectReader reader, string defaultPrefix, int count)
    {
        var pattern = reader.String("idPattern");
        var prefix = reader.String("idPrefix");
        if (reader.Has("idPattern") && reader.Has("idPrefix"))
        {
            ctx.Error(reader.KeyNode("idPrefix")!, "idPrefix and idPattern cannot be used together", "idPrefix: dev- is idPattern: dev-{index}");
            return null;
        }
        var node = reader.Get("idPattern") ?? reader.Get("idPrefix") ?? reader.Node;
        if (reader.Has("idPattern") && pattern is null || reader.Has("idPrefix") && prefix is null)
        {
            return null;
        }
        var text = pattern ?? (prefix ?? defaultPrefix + "-") + "{index}";
        if (!DeviceIdRules.TryCompile(text, count, out var compiled, out var error))
        {
            ctx.Error(node, (pattern is null ? "idPrefix: " : "idPattern: ") + error, "e.g. sensor-{index:00000}; ids may hold letters, digits and - . % _ * ? ! ( ) , : = @ $ '");
            return null;
        }
        return compiled;
    }
}
