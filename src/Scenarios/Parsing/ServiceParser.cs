using FleetSim.Scenarios.Model;
using YamlDotNet.RepresentationModel;

namespace FleetSim.Scenarios.Parsing;

/// <summary>service: a list of invokeMethod / patchDesired / sendC2d actions with rates and targets.</summary>
internal static class ServiceParser
{
    public static IReadOnlyList<ServiceAction> Parse(ParseContext ctx, YamlNode? node, IReadOnlyList<DeviceGroup> groups)
    {
        var actions = new List<ServiceAction>();
        if (node is null || ParseContext.IsNull(node))
        {
            return actions;
        }
        if (node is not YamlSequenceNode sequence)
        {
            ctx.Error(node, $"service: expected a list of actions, found {ParseContext.Describe(node)}", "e.g. - invokeMethod: {name: reboot, ratePerSecond: 5}");
            return actions;
        }
        foreach (var item in sequence.Children)
        {
            var action = ObjectReader.Open(ctx, item, "serviceAction", "service action");
            var kind = action?.ExactlyOne("service action", "invokeMethod", "patchDesired", "sendC2d");
            if (kind is null)
            {
                continue;
            }
            var body = ObjectReader.Open(ctx, action!.Get(kind)!, kind, kind);
            if (body is null)
            {
                continue;
            }
            var errors = ctx.Errors.Count;
            var rate = body.Rate("ratePerSecond");
            var target = body.Get("target") is { } t ? Target(ctx, t, groups) : ServiceTarget.Random;
            ServiceAction? parsed = kind switch
            {
                "invokeMethod" => Invoke(ctx, body, rate ?? 1, target),
                "patchDesired" => body.Get("template") is { } pt && TemplateReader.Read(ctx, pt, TemplateKind.JsonObject, "patchDesired.template") is { } patch
                    ? new PatchDesiredAction(patch, rate ?? 1, target ?? ServiceTarget.Random) : null,
                _ => C2d(ctx, body, rate ?? 1, target),
            };
            if (parsed is not null && ctx.Errors.Count == errors)
            {
                actions.Add(parsed);
            }
        }
        return actions;
    }

    private static InvokeMethodAction? Invoke(ParseContext ctx, ObjectReader body, double rate, ServiceTarget? target)
    {
        var name = body.String("name");
        if (name is not null && (name.Length == 0 || name.Contains('/') || name.Any(char.IsWhiteSpace)))
        {
            ctx.Error(body.Get("name")!, $"method name '{name}' is not valid", "method names are non-empty, without '/' or spaces");
            return null;
        }
        var payload = body.Get("payload") is { } p ? TemplateReader.Read(ctx, p, TemplateKind.Json, "invokeMethod.payload") : null;
        var response = body.Duration("responseTimeout", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(300)) ?? InvokeMethodAction.DefaultResponseTimeout;
        var connect = body.Duration("connectTimeout", TimeSpan.Zero, TimeSpan.FromSeconds(300)) ?? TimeSpan.Zero;
        return name is null ? null : new InvokeMethodAction(name, payload, response, connect, rate, target ?? ServiceTarget.Random);
    }

    private static SendC2dAction? C2d(ParseContext ctx, ObjectReader body, double rate, ServiceTarget? target)
    {
        var template = body.Get("template") is { } t ? TemplateReader.Read(ctx, t, TemplateKind.Text, "sendC2d.template") : null;
        var properties = body.Get("properties") is { } p ? BehaviourParser.Properties(ctx, p, "sendC2d.properties") : [];
        return template is null || properties is null ? null : new SendC2dAction(template, properties, rate, target ?? ServiceTarget.Random);
    }

    private static ServiceTarget? Target(ParseContext ctx, YamlNode node, IReadOnlyList<DeviceGroup> groups)
    {
        var text = ctx.Text(node, "random, all or group:NAME");
        switch (text)
        {
            case null:
                return null;
            case "random":
                return ServiceTarget.Random;
            case "all":
                return ServiceTarget.All;
        }
        if (!text.StartsWith("group:", StringComparison.Ordinal))
        {
            ctx.Error(node, $"target '{text}' is not valid", "expected random, all or group:NAME");
            return null;
        }
        var name = text["group:".Length..];
        var names = groups.Select(g => g.Name).ToList();
        if (!names.Contains(name, StringComparer.Ordinal))
        {
            var suggestion = DidYouMean.Suggest(name, names);
            ctx.ErrorInScalar(node, "group:".Length, $"target names group '{name}', which does not exist",
                suggestion is null ? "groups: " + string.Join(", ", names) : $"did you mean 'group:{suggestion}'?");
            return null;
        }
        return new ServiceTarget(ServiceTargetKind.Group, name);
    }
}
