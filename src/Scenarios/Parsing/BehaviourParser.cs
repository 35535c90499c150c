using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Templates;
using YamlDotNet.RepresentationModel;

namespace FleetSim.Scenarios.Parsing;

/// <summary>Device behaviours: telemetry, reported updates, method handlers, desired, C2D, file upload.</summary>
internal static class BehaviourParser
{
    private static readonly PayloadTemplate DefaultPayload = PayloadTemplate.Compile(TelemetrySpec.DefaultPayload);

    public static TelemetrySpec? Telemetry(ParseContext ctx, YamlNode node)
    {
        var t = ObjectReader.Open(ctx, node, "telemetry", "telemetry");
        if (t is null)
        {
            return null;
        }
        var errors = ctx.Errors.Count;
        var interval = TelemetrySpec.DefaultInterval;
        if (t.Has("interval") && t.Has("ratePerSecond"))
        {
            ctx.Error(t.KeyNode("ratePerSecond")!, "telemetry: interval and ratePerSecond cannot be used together", "ratePerSecond: 2 is interval: 500ms");
        }
        if (t.Duration("interval", TimeSpan.FromMilliseconds(1)) is { } i)
        {
            interval = i;
        }
        if (t.Number("ratePerSecond", 0, 1000, exclusiveMin: true) is { } rate)
        {
            interval = TimeSpan.FromTicks((long)(TimeSpan.TicksPerSecond / rate));
        }
        var jitter = t.Duration("jitter") ?? TimeSpan.Zero;
        var contentType = t.Has("contentType") ? t.String("contentType") : "application/json";
        var contentEncoding = t.Has("contentEncoding") ? t.String("contentEncoding") : "utf-8";
        var isJson = contentType is not null && contentType.Contains("json", StringComparison.OrdinalIgnoreCase);
        var payload = t.Get("payload") is { } p ? TemplateReader.Read(ctx, p, isJson ? TemplateKind.Json : TemplateKind.Text, "telemetry.payload") : DefaultPayload;
        var properties = t.Get("properties") is { } props ? Properties(ctx, props, "telemetry.properties") : [];
        var queue = TelemetryQueue.Default;
        if (t.Get("queue") is { } q && ObjectReader.Open(ctx, q, "queue", "telemetry.queue") is { } qr)
        {
            queue = new TelemetryQueue(
                qr.Int("capacity", 0, 10_000_000) ?? TelemetryQueue.Default.Capacity,
                qr.Enum("whenDisconnected", "whenDisconnected") == "drop" ? DisconnectedPolicy.Drop : DisconnectedPolicy.Queue);
            if (queue.WhenDisconnected == DisconnectedPolicy.Drop && qr.KeyNode("capacity") is { } capacityKey)
            {
                ctx.Error(capacityKey, "telemetry.queue.capacity does not apply with whenDisconnected: drop", "nothing is kept while disconnected");
            }
        }
        var inFlight = t.Int("inFlight", 1, 65535) ?? TelemetrySpec.DefaultInFlight;
        if (ctx.Errors.Count > errors || payload is null || properties is null)
        {
            return null;
        }
        return new TelemetrySpec(interval, jitter, payload, properties, contentType, contentEncoding, queue, inFlight);
    }

    /// <summary>Application properties: names to text templates. System ($.) and FleetSim's own names are refused.</summary>
    public static IReadOnlyList<KeyValuePair<string, PayloadTemplate>>? Properties(ParseContext ctx, YamlNode node, string what)
    {
        if (node is not YamlMappingNode mapping)
        {
            ctx.Error(node, $"{what}: expected a mapping of names to values, found {ParseContext.Describe(node)}");
            return null;
        }
        var result = new List<KeyValuePair<string, PayloadTemplate>>();
        var ok = true;
        foreach (var (key, value) in mapping.Children)
        {
            var name = key is YamlScalarNode { Value: { Length: > 0 } n } ? n : null;
            if (name is null)
            {
                ctx.Error(key, $"{what}: property names must be non-empty text");
                ok = false;
                continue;
            }
            if (name.StartsWith('$') || name.StartsWith("iothub-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("fleetsim-", StringComparison.OrdinalIgnoreCase))
            {
                ctx.Error(key, $"{what}: '{name}' is a reserved property name", "system properties come from contentType/contentEncoding; fleetsim- and iothub- names are FleetSim's and the hub's");
                ok = false;
                continue;
            }
            var template = TemplateReader.Read(ctx, value, TemplateKind.Text, $"{what}.{name}");
            if (template is null)
            {
                ok = false;
                continue;
            }
            result.Add(new KeyValuePair<string, PayloadTemplate>(name, template));
        }
        return ok ? result : null;
    }

    public static ReportedSpec? Reported(ParseContext ctx, YamlNode node)
    {
        var r = ObjectReader.Open(ctx, node, "reported", "reported");
        if (r is null)
        {
            return null;
        }
        var interval = r.Duration("interval", TimeSpan.FromMilliseconds(100));
        var template = r.Get("template") is { } t ? TemplateReader.Read(ctx, t, TemplateKind.JsonObject, "reported.template") : null;
        return interval is null || template is null ? null : new ReportedSpec(interval.Value, template);
    }

    public static Dictionary<string, MethodHandlerSpec>? Methods(ParseContext ctx, YamlNode node)
    {
        if (node is not YamlMappingNode mapping)
        {
            ctx.Error(node, $"methods: expected a mapping of method names to handlers, found {ParseContext.Describe(node)}",
                "e.g. methods: {reboot: {status: 200, delay: 100ms}}");
            return null;
        }
        var result = new Dictionary<string, MethodHandlerSpec>(StringComparer.Ordinal);
        var ok = true;
        foreach (var (key, value) in mapping.Children)
        {
            var name = key is YamlScalarNode { Value: { Length: > 0 } n } ? n : null;
            if (name is null || name.Contains('/') || name.Any(char.IsWhiteSpace))
            {
                ctx.Error(key, $"method name '{name}' is not valid", "method names are non-empty, without '/' or spaces");
                ok = false;
                continue;
            }
            if (Method(ctx, value, $"methods.{name}", 200) is { } handler)
            {
                result[name] = handler;
            }
            else
            {
                ok = false;
            }
        }
        return ok ? result : null;
    }

    public static MethodHandlerSpec? Method(ParseContext ctx, YamlNode node, string what, int defaultStatus)
    {
        var m = ObjectReader.Open(ctx, node, "methodHandler", what);
        if (m is null)
        {
            return null;
        }
        var errors = ctx.Errors.Count;
        var status = m.Int("status", 100, 999) ?? defaultStatus;
        var payload = m.Get("payload") is { } p ? TemplateReader.Read(ctx, p, TemplateKind.Json, what + ".payload") : null;
        var delay = m.Duration("delay", TimeSpan.Zero, TimeSpan.FromMinutes(5)) ?? TimeSpan.Zero;
        return ctx.Errors.Count > errors ? null : new MethodHandlerSpec(status, payload, delay);
    }

    public static DesiredSpec? Desired(ParseContext ctx, YamlNode node) =>
        ObjectReader.Open(ctx, node, "desired", "desired") is { } d
            ? new DesiredSpec(d.Bool("reportBack") ?? false) { EnsureDesiredProperties = d.Bool("ensureDesiredProperties") ?? true }
            : null;

    public static C2dSpec? C2d(ParseContext ctx, YamlNode node) =>
        ObjectReader.Open(ctx, node, "c2d", "c2d") is { } c ? new C2dSpec(c.Bool("ack") ?? true) : null;

    public static FileUploadSpec? FileUpload(ParseContext ctx, YamlNode node)
    {
        var f = ObjectReader.Open(ctx, node, "fileUpload", "fileUpload");
        if (f is null)
        {
            return null;
        }
        var interval = f.Duration("interval", TimeSpan.FromMilliseconds(100));
        var size = f.Int("sizeBytes", 1, FileUploadSpec.MaxSizeBytes);
        return interval is null || size is null ? null : new FileUploadSpec(interval.Value, size.Value);
    }
}
