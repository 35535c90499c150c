using FleetSim.Protocol;
using FleetSim.Scenarios.Model;
using YamlDotNet.RepresentationModel;

namespace FleetSim.Scenarios.Parsing;

/// <summary>hub: embedded (default), a service connection string, or {embedded: {...}} / {connectionString: ...}.</summary>
internal static class HubParser
{
    private const string ConnectionStringHint =
        "the hub's SERVICE connection string, e.g. HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=...; keep it in ${ENV_VAR}";

    public static HubSpec? Parse(ParseContext ctx, YamlNode? node)
    {
        if (node is null)
        {
            return EmbeddedHub.Default;
        }
        if (node is YamlScalarNode)
        {
            var text = ctx.Text(node, "embedded or a connection string");
            return text is null ? null : text.Trim() == "embedded" ? EmbeddedHub.Default : ConnectionString(ctx, node, text);
        }
        var hub = ObjectReader.Open(ctx, node, "hub", "hub");
        if (hub is null)
        {
            return null;
        }
        if (!hub.Has("chaos"))
        {
            return Hub(ctx, hub);
        }
        var chaos = Chaos(ctx, hub.Get("chaos")!, out var chaosOk);
        if (hub.Has("embedded"))
        {
            ctx.Error(hub.KeyNode("chaos")!, "hub.chaos applies to an existing hub (connectionString, --hub or --hub-state), not to the embedded one",
                "the embedded hub takes the same faults, and more, under hub.embedded.faults");
            return null;
        }
        // Only chaos: the hub is named on the command line (--hub, --hub-state); the run checks that one is.
        var spec = hub.Has("connectionString") ? Hub(ctx, hub) : EmbeddedHub.Default;
        var at = hub.KeyNode("chaos")!.Start;
        return spec is null || !chaosOk ? null : spec with { Chaos = chaos, ChaosAt = $"{at.Line}:{at.Column}" };
    }

    /// <summary>hub.chaos: a list of faults of the kinds a proxy can apply.</summary>
    private static List<FaultSpec> Chaos(ParseContext ctx, YamlNode node, out bool ok)
    {
        var faults = new List<FaultSpec>();
        ok = true;
        if (node is not YamlSequenceNode sequence)
        {
            ctx.Error(node, $"hub.chaos: expected a list of faults, found {ParseContext.Describe(node)}", "e.g. chaos: [{at: 10s, dropConnections: {fraction: 0.1}}]");
            ok = false;
            return faults;
        }
        foreach (var item in sequence.Children)
        {
            var proxyKind = true;
            if (item is YamlMappingNode mapping)
            {
                foreach (var (key, _) in mapping.Children)
                {
                    if (key is YamlScalarNode { Value: { } name } && FaultKinds.Contains(name) && !ChaosKinds.Contains(name))
                    {
                        ctx.Error(key, $"hub.chaos: {name} needs the hub's cooperation; the proxy can apply {string.Join(", ", ChaosKinds)}",
                            "the embedded hub applies it under hub.embedded.faults");
                        proxyKind = false;
                    }
                }
            }
            if (proxyKind && Fault(ctx, item) is { } fault)
            {
                faults.Add(fault);
            }
            else
            {
                ok = false;
            }
        }
        return faults;
    }

    /// <summary>The kinds of hub.chaos: the network-level faults, applied by the chaos proxy.</summary>
    public static readonly string[] ChaosKinds = ["dropConnections", "refuseConnects", "blackhole", "latency", "hubRestart"];

    private static HubSpec? Hub(ParseContext ctx, ObjectReader hub)
    {
        var kind = hub.ExactlyOne("hub", "embedded", "connectionString");
        var pace = hub.Bool("pace") ?? true;
        if (kind == "connectionString")
        {
            var value = hub.Get("connectionString")!;
            var text = ctx.Text(value, "a connection string");
            var mqttPort = hub.Int("mqttPort", 1, 65535);
            var httpsPort = hub.Int("httpsPort", 1, 65535);
            var ca = hub.Get("trustedCa") is { } caNode ? ConnectionParser.TrustedCa(ctx, caNode, "hub.trustedCa") : null;
            var tier = Tier(ctx, hub, "hub", out var tierOk);
            if (text is null || ConnectionString(ctx, value, text) is not { } external || (hub.Has("trustedCa") && ca is null) || !tierOk)
            {
                return null;
            }
            return external with
            {
                MqttPort = mqttPort ?? ConnectionStringHub.DefaultMqttPort,
                HttpsPort = httpsPort ?? ConnectionStringHub.DefaultHttpsPort,
                TrustedCa = ca,
                Tier = tier,
                Pace = pace,
            };
        }
        foreach (var key in new[] { "mqttPort", "httpsPort", "trustedCa", "tier", "units" })
        {
            if (hub.KeyNode(key) is { } keyNode)
            {
                hub.Get(key);
                ctx.Error(keyNode, $"hub.{key} applies only to a hub named by connectionString",
                    key is "tier" or "units" ? "shape the embedded hub with hub.embedded.tier and hub.embedded.units" : "the embedded hub picks its own ports and CA");
            }
        }
        hub.Get("connectionString");
        return kind == "embedded" && Embedded(ctx, hub.Get("embedded")!) is { } embedded ? embedded with { Pace = pace } : null;
    }

    private static ConnectionStringHub? ConnectionString(ParseContext ctx, YamlNode node, string text)
    {
        if (ServiceConnectionString.TryParse(text, out var parsed, out var error))
        {
            return new ConnectionStringHub(parsed);
        }
        ctx.Error(node, "invalid hub connection string: " + Redaction.Redact(error), ConnectionStringHint);
        return null;
    }

    private static EmbeddedHub? Embedded(ParseContext ctx, YamlNode node)
    {
        var embedded = ObjectReader.Open(ctx, node, "embeddedHub", "hub.embedded");
        if (embedded is null)
        {
            return null;
        }
        var quotas = HubQuotas.Unlimited;
        if (embedded.Get("quotas") is { } quotasNode && ObjectReader.Open(ctx, quotasNode, "quotas", "quotas") is { } q)
        {
            quotas = new HubQuotas(q.Rate("connectsPerSecond"), q.Rate("telemetryPerSecond"), q.Rate("twinOperationsPerSecond"));
        }
        var faults = new List<FaultSpec>();
        if (embedded.Get("faults") is { } faultsNode)
        {
            if (faultsNode is YamlSequenceNode sequence)
            {
                foreach (var item in sequence.Children)
                {
                    if (Fault(ctx, item) is { } fault)
                    {
                        faults.Add(fault);
                    }
                }
            }
            else if (!ParseContext.IsNull(faultsNode))
            {
                ctx.Error(faultsNode, $"faults: expected a list, found {ParseContext.Describe(faultsNode)}");
            }
        }
        var grace = embedded.Duration("sasExpiryGrace") ?? TimeSpan.Zero;
        var tier = Tier(ctx, embedded, "hub.embedded", out var tierOk);
        var partitions = embedded.Get("partitions") is { } partitionsNode ? Partitions(ctx, partitionsNode) : null;
        return tierOk ? new EmbeddedHub(new EmulatorOptions(quotas, faults, grace) { Tier = tier, Partitions = partitions }) : null;
    }

    /// <summary>{where}.tier (F1, B1-B3, S1-S3) and {where}.units (default 1): a clear error for an unknown tier or impossible units.</summary>
    private static FleetSim.Protocol.Tiers.HubTier? Tier(ParseContext ctx, ObjectReader reader, string where, out bool ok)
    {
        ok = true;
        var tierNode = reader.Get("tier");
        var units = reader.Int("units", 1, 200);
        if (tierNode is null)
        {
            if (reader.KeyNode("units") is { } unitsKey)
            {
                ctx.Error(unitsKey, $"{where}.units needs {where}.tier", "e.g. tier: S1 with units: 2");
                ok = false;
            }
            return null;
        }
        var name = ctx.Text(tierNode, "an IoT Hub tier");
        if (name is null)
        {
            ok = false;
            return null;
        }
        if (!FleetSim.Protocol.Tiers.HubTier.TryCreate(name, units ?? 1, out var tier, out var error))
        {
            ctx.Error(tierNode, $"{where}.tier: {error}", "the tier and units of the hub, as the Azure portal shows them under Pricing and scale");
            ok = false;
            return null;
        }
        return tier;
    }

    /// <summary><c>partitions: N</c> (1 to 64) or <c>auto</c>; null for auto (and after an error, which ctx holds).</summary>
    private static int? Partitions(ParseContext ctx, YamlNode node)
    {
        var text = ctx.Text(node, "a number of partitions or auto");
        if (text is null || text.Trim() == "auto")
        {
            return null;
        }
        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= EmulatorOptions.MaxPartitions)
        {
            return n;
        }
        ctx.Error(node, $"hub.embedded.partitions: expected auto or a whole number from 1 to {EmulatorOptions.MaxPartitions}, found '{text}'",
            $"auto splits the hub into one emulator process per {EmulatorOptions.DevicesPerPartition:N0} devices; 1 keeps it in the run's process");
        return null;
    }

    private static readonly string[] FaultKinds =
        ["dropConnections", "refuseConnects", "failTwin", "delayAcks", "hubRestart", "blackhole", "expireTokens", "latency"];

    private static FaultSpec? Fault(ParseContext ctx, YamlNode node)
    {
        var fault = ObjectReader.Open(ctx, node, "fault", "fault");
        if (fault is null)
        {
            return null;
        }
        var at = fault.Duration("at");
        var kind = fault.ExactlyOne("fault", FaultKinds);
        if (kind is null || at is null)
        {
            return null;
        }
        var body = ObjectReader.Open(ctx, fault.Get(kind)!, kind, kind);
        if (body is null)
        {
            return null;
        }
        var spec = Kind(ctx, kind, at.Value, body);
        if (spec is null)
        {
            return null;
        }
        var every = fault.Duration("every", TimeSpan.FromMilliseconds(100));
        var until = fault.Duration("until");
        if (until is not null && every is null)
        {
            ctx.Error(fault.KeyNode("until")!, "fault: 'until' needs 'every'", "repeat with every: 20s, until: 3m, or drop until");
            return null;
        }
        if (until is { } u && u < at.Value)
        {
            ctx.Error(fault.Get("until")!, $"fault: until ({DurationText.Format(u)}) is before at ({DurationText.Format(at.Value)})", "until is a time from the start of the run");
            return null;
        }
        var target = Target(ctx, fault);
        if (target is not null && spec is DropConnectionsFault { DeviceId: not null })
        {
            ctx.Error(fault.KeyNode(target.Group is null ? "ids" : "group")!, "dropConnections: deviceId cannot be combined with group or ids",
                "drop one device, or a fraction of a group");
            return null;
        }
        return spec with { Every = every, Until = until, Target = target };
    }

    private static FaultTargetSpec? Target(ParseContext ctx, ObjectReader fault)
    {
        if (fault.Has("group") && fault.Has("ids"))
        {
            ctx.Error(fault.KeyNode("ids")!, "fault: 'group' and 'ids' cannot be used together", "target a group or an id pattern");
            return null;
        }
        if (fault.String("group") is { } group)
        {
            return new FaultTargetSpec(group, []);
        }
        if (fault.Get("ids") is not { } ids)
        {
            return null;
        }
        var patterns = new List<string>();
        if (ids is YamlSequenceNode list)
        {
            foreach (var item in list.Children)
            {
                if (ctx.Text(item, "an id pattern") is { Length: > 0 } one)
                {
                    patterns.Add(one);
                }
            }
        }
        else if (ctx.Text(ids, "an id pattern or a list of them") is { Length: > 0 } single)
        {
            patterns.Add(single);
        }
        if (patterns.Count == 0)
        {
            ctx.Error(ids, "fault: ids must name at least one id pattern", "e.g. ids: 'sensor-*'");
            return null;
        }
        return new FaultTargetSpec(null, patterns);
    }

    private static FaultSpec? Kind(ParseContext ctx, string kind, TimeSpan at, ObjectReader body)
    {
        switch (kind)
        {
            case "dropConnections":
                var fraction = body.Fraction("fraction");
                var deviceId = body.String("deviceId");
                if (body.Has("fraction") && body.Has("deviceId"))
                {
                    ctx.Error(body.KeyNode("deviceId")!, "dropConnections: fraction and deviceId cannot be used together", "drop a fraction of the fleet, or one device");
                    return null;
                }
                return new DropConnectionsFault(at, fraction ?? 1.0, deviceId);
            case "refuseConnects":
                return body.Duration("for", TimeSpan.FromMilliseconds(1)) is { } refuseFor ? new RefuseConnectsFault(at, refuseFor) : null;
            case "failTwin":
                var status = body.Int("status", 400, 599) ?? 500;
                var ratio = body.Fraction("ratio") ?? 1.0;
                return body.Duration("for", TimeSpan.FromMilliseconds(1)) is { } failFor ? new FailTwinFault(at, status, ratio, failFor) : null;
            case "hubRestart":
                return body.Duration("for", TimeSpan.FromMilliseconds(1)) is { } downFor ? new HubRestartFault(at, downFor) : null;
            case "blackhole":
                var silenced = body.Fraction("fraction") ?? 1.0;
                return body.Duration("for", TimeSpan.FromMilliseconds(1)) is { } silentFor ? new BlackholeFault(at, silenced, silentFor) : null;
            case "expireTokens":
                return new ExpireTokensFault(at, body.Fraction("fraction") ?? 1.0);
            case "latency":
                var latency = body.Duration("by", TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(5));
                var jitter = body.Duration("jitter") ?? TimeSpan.Zero;
                var latencyFor = body.Duration("for", TimeSpan.FromMilliseconds(1));
                if (latency is { } l && jitter > l)
                {
                    ctx.Error(body.Get("jitter")!, $"latency: jitter ({DurationText.Format(jitter)}) is larger than by ({DurationText.Format(l)})",
                        "answers wait by ± jitter, never less than zero");
                    return null;
                }
                return latency is null || latencyFor is null ? null : new LatencyFault(at, latency.Value, jitter, latencyFor.Value);
            default:
                var by = body.Duration("by", TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(5));
                var delayFor = body.Duration("for", TimeSpan.FromMilliseconds(1));
                return by is null || delayFor is null ? null : new DelayAcksFault(at, by.Value, delayFor.Value);
        }
    }
}
