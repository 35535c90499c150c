using FleetSim.Scenarios.Model;
using YamlDotNet.RepresentationModel;

namespace FleetSim.Scenarios.Parsing;

/// <summary>retry: {policy: exponential, baseDelay, maxDelay} | {policy: fixed, interval} | {policy: none, autoConnect}.</summary>
internal static class RetryParser
{
    public static RetrySpec Parse(ParseContext ctx, YamlNode? node)
    {
        if (node is null || ObjectReader.Open(ctx, node, "retry", "retry") is not { } r)
        {
            return RetrySpec.Default;
        }
        var policy = r.Enum("policy", "retryPolicy") switch
        {
            "fixed" => RetryPolicyKind.Fixed,
            "none" => RetryPolicyKind.None,
            _ => RetryPolicyKind.Exponential,
        };
        var baseDelay = r.Duration("baseDelay", TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));
        var maxDelay = r.Duration("maxDelay", TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));
        var interval = r.Duration("interval", TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));
        var autoConnect = r.Bool("autoConnect");
        string[] applicable = policy switch
        {
            RetryPolicyKind.Exponential => ["baseDelay", "maxDelay"],
            RetryPolicyKind.Fixed => ["interval"],
            _ => ["autoConnect"],
        };
        foreach (var key in new[] { "baseDelay", "maxDelay", "interval", "autoConnect" })
        {
            if (r.KeyNode(key) is { } keyNode && Array.IndexOf(applicable, key) < 0)
            {
                ctx.Error(keyNode, $"retry.{key} does not apply to policy {policy.ToString().ToLowerInvariant()}",
                    "exponential uses baseDelay and maxDelay, fixed uses interval, none uses autoConnect (retrying policies always reconnect)");
            }
        }
        var spec = RetrySpec.Default with
        {
            Policy = policy,
            BaseDelay = baseDelay ?? RetrySpec.Default.BaseDelay,
            MaxDelay = maxDelay ?? RetrySpec.Default.MaxDelay,
            Interval = interval ?? RetrySpec.Default.Interval,
            AutoConnect = autoConnect ?? true,
        };
        if (policy == RetryPolicyKind.Exponential && spec.BaseDelay > spec.MaxDelay)
        {
            ctx.Error(r.Get("baseDelay") ?? r.Get("maxDelay")!, $"retry.baseDelay ({DurationText.Format(spec.BaseDelay)}) is greater than maxDelay ({DurationText.Format(spec.MaxDelay)})");
        }
        return spec;
    }
}
