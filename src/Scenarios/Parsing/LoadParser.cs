using FleetSim.Scenarios.Model;
using YamlDotNet.RepresentationModel;

namespace FleetSim.Scenarios.Parsing;

/// <summary>load: an ordered list of ramp/hold/inject/rampDown/pause phases, checked against the fleet size.</summary>
internal static class LoadParser
{
    public static IReadOnlyList<LoadPhase> Parse(ParseContext ctx, YamlNode node, int fleet)
    {
        var phases = new List<LoadPhase>();
        if (node is not YamlSequenceNode sequence || sequence.Children.Count == 0)
        {
            ctx.Error(node, $"load: expected a list of phases, found {ParseContext.Describe(node)}", "e.g. - ramp: {to: 100, over: 10s}");
            return phases;
        }
        long level = 0;
        foreach (var item in sequence.Children)
        {
            var phase = ObjectReader.Open(ctx, item, "phase", "load phase");
            var kind = phase?.ExactlyOne("load phase", "ramp", "hold", "inject", "rampDown", "pause");
            if (phase is null || kind is null)
            {
                continue;
            }
            var body = ObjectReader.Open(ctx, phase.Get(kind)!, kind == "rampDown" ? "rampPhase" : kind + "Phase", kind);
            if (body is null)
            {
                continue;
            }
            LoadPhase? parsed = kind switch
            {
                "ramp" or "rampDown" => Ramp(ctx, body, kind, fleet, ref level),
                "hold" => body.Duration("for") is { } holdFor ? new HoldPhase(holdFor, Telemetry(ctx, body)) : null,
                "inject" => Inject(ctx, body, fleet, ref level),
                _ => body.Duration("for") is { } pauseFor ? new PausePhase(pauseFor) : null,
            };
            if (parsed is not null)
            {
                phases.Add(parsed);
            }
        }
        return phases;
    }

    private static LoadPhase? Ramp(ParseContext ctx, ObjectReader body, string kind, int fleet, ref long level)
    {
        var to = body.Int("to", 0);
        var over = body.Duration("over");
        var telemetry = Telemetry(ctx, body);
        if (to is null || over is null)
        {
            return null;
        }
        var toNode = body.Get("to")!;
        if (to > fleet)
        {
            ctx.Error(toNode, $"{kind} to {to} devices, but the device groups have only {fleet}", "raise a group's count or lower 'to'");
            level = to.Value;
            return null;
        }
        if (kind == "ramp" && to < level)
        {
            ctx.Error(toNode, $"ramp to {to} goes down from {level} devices", "use rampDown to disconnect devices");
            return null;
        }
        if (kind == "rampDown" && to > level)
        {
            ctx.Error(toNode, $"rampDown to {to} goes up from {level} devices", "use ramp to connect devices");
            return null;
        }
        level = to.Value;
        return kind == "ramp" ? new RampPhase(to.Value, over.Value, telemetry) : new RampDownPhase(to.Value, over.Value, telemetry);
    }

    private static InjectPhase? Inject(ParseContext ctx, ObjectReader body, int fleet, ref long level)
    {
        var perSecond = body.Rate("perSecond");
        var duration = body.Duration("for");
        var telemetry = Telemetry(ctx, body);
        if (perSecond is null || duration is null)
        {
            return null;
        }
        var phase = new InjectPhase(perSecond.Value, duration.Value, telemetry);
        if (level + phase.DevicesAdded > fleet)
        {
            ctx.Error(body.Node, $"inject adds {phase.DevicesAdded} devices to {level}, but the device groups have only {fleet}",
                "raise a group's count, or lower perSecond or for");
            level += phase.DevicesAdded;
            return null;
        }
        level += phase.DevicesAdded;
        return phase;
    }

    private static TelemetryRateChange? Telemetry(ParseContext ctx, ObjectReader body)
    {
        if (body.Get("telemetry") is not { } node)
        {
            return null;
        }
        var change = ObjectReader.Open(ctx, node, "phaseTelemetry", "phase telemetry");
        var kind = change?.ExactlyOne("phase telemetry", "factor", "interval", "ratePerSecond");
        switch (kind)
        {
            case "factor":
                return change!.Number("factor", 0, 1000, exclusiveMin: true) is { } factor ? new TelemetryRateChange(factor, null) : null;
            case "interval":
                return change!.Duration("interval", TimeSpan.FromMilliseconds(1)) is { } interval ? new TelemetryRateChange(null, interval) : null;
            case "ratePerSecond":
                return change!.Number("ratePerSecond", 0, 1000, exclusiveMin: true) is { } rate
                    ? new TelemetryRateChange(null, TimeSpan.FromTicks((long)(TimeSpan.TicksPerSecond / rate))) : null;
            default:
                return null;
        }
    }
}
