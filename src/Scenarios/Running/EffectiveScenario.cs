using System.Globalization;
using System.Text;
using FleetSim.Scenarios.Model;

namespace FleetSim.Scenarios.Running;

/// <summary>
/// The values a run actually used, after --set, --duration and --scale (report.json <c>run.effectiveScenario</c>), as
/// YAML-like text: what a reader needs to reproduce or compare the run, not a file to load back. Secrets are never in it
/// (a hub connection string prints redacted); the caller redacts the whole text as well.
/// </summary>
public static class EffectiveScenario
{
    public static string Describe(Scenario scenario)
    {
        var text = new StringBuilder();
        text.Append("name: ").Append(scenario.Name).Append('\n');
        text.Append("seed: ").Append(N(scenario.Seed)).Append('\n');
        text.Append("duration: ").Append(D(scenario.Duration)).Append('\n');
        switch (scenario.Hub)
        {
            case EmbeddedHub { Options: var o }:
                text.Append("hub: embedded (quotas per second: connects ").Append(Q(o.Quotas.ConnectsPerSecond))
                    .Append(", telemetry ").Append(Q(o.Quotas.TelemetryPerSecond))
                    .Append(", twin operations ").Append(Q(o.Quotas.TwinOperationsPerSecond))
                    .Append("; ").Append(N(o.Faults.Count)).Append(" fault(s); sasExpiryGrace ").Append(D(o.SasExpiryGrace)).Append(")\n");
                break;
            case ConnectionStringHub h:
                text.Append("hub: ").Append(h.ConnectionString.HostName).Append(" (mqtt ").Append(N(h.MqttPort)).Append(", https ").Append(N(h.HttpsPort)).Append(")\n");
                break;
        }

        text.Append("deviceGroups:\n");
        foreach (var g in scenario.DeviceGroups)
        {
            text.Append("  - name: ").Append(g.Name).Append(", count: ").Append(N(g.Count))
                .Append(", credential: ").Append(g.Credential).Append(", transport: ").Append(g.Transport)
                .Append(", retry: ").Append(g.Retry.Policy);
            if (g.Telemetry is { } t)
                text.Append(", telemetry: every ").Append(D(t.Interval)).Append(" (queue ").Append(N(t.Queue.Capacity)).Append(", whenDisconnected ").Append(t.Queue.WhenDisconnected).Append(')');
            if (g.Reported is { } r)
                text.Append(", reported: every ").Append(D(r.Interval));
            if (g.Methods.Count > 0)
                text.Append(", methods: ").Append(string.Join(' ', g.Methods.Keys));
            if (g.C2d is { } c)
                text.Append(", c2d: ack ").Append(c.Ack ? "true" : "false");
            if (g.FileUpload is { } f)
                text.Append(", fileUpload: every ").Append(D(f.Interval)).Append(", ").Append(N(f.SizeBytes)).Append(" bytes");
            text.Append('\n');
        }

        text.Append("load:\n");
        foreach (var phase in scenario.Load)
        {
            text.Append("  - ").Append(phase switch
            {
                RampPhase p => $"ramp to {N(p.To)} over {D(p.Over)}",
                HoldPhase p => $"hold for {D(p.For)}",
                InjectPhase p => $"inject {F(p.PerSecond)}/s for {D(p.For)}",
                RampDownPhase p => $"rampDown to {N(p.To)} over {D(p.Over)}",
                PausePhase p => $"pause for {D(p.For)}",
                _ => phase.GetType().Name,
            });
            if (phase.Telemetry is { } change)
                text.Append(", telemetry ").Append(change.Factor is { } factor ? "factor " + F(factor) : "every " + D(change.Interval ?? TimeSpan.Zero));
            text.Append('\n');
        }

        text.Append("service:\n");
        foreach (var action in scenario.Service)
        {
            var name = action switch
            {
                InvokeMethodAction m => "invokeMethod " + m.MethodName,
                PatchDesiredAction => "patchDesired",
                SendC2dAction => "sendC2d",
                _ => action.GetType().Name,
            };
            var target = action.Target.Kind == ServiceTargetKind.Group ? "group:" + action.Target.GroupName : action.Target.Kind.ToString().ToLowerInvariant();
            text.Append("  - ").Append(name).Append(", ").Append(F(action.RatePerSecond)).Append("/s, target ").Append(target).Append('\n');
        }

        text.Append("thresholds:").Append(scenario.Thresholds.AbortOnBreach ? " (abortOnBreach)" : "").Append('\n');
        foreach (var rule in scenario.Thresholds.Rules)
            text.Append("  - ").Append(rule.Operation).Append(": ").Append(rule.Text).Append(" (value ").Append(F(rule.Value)).Append(")\n");
        return text.ToString();
    }

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string F(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Q(double? perSecond) => perSecond is { } q ? F(q) : "unlimited";

    private static string D(TimeSpan value) => value.TotalMilliseconds % 1000 == 0
        ? N((long)value.TotalSeconds) + "s"
        : F(value.TotalMilliseconds) + "ms";
}
