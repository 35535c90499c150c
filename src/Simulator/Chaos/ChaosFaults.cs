using FleetSim.HubEmulator.Faults;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Running;

namespace FleetSim.Simulator.Chaos;

/// <summary>
/// The scenario's <c>hub.chaos</c> faults applied by the <see cref="ChaosProxy"/> in front of an existing hub. They are
/// the network-level kinds of <c>hub.embedded.faults</c> with the same names and the same report rows (source
/// <c>chaos</c>): dropConnections (the tunnels reset), refuseConnects (new tunnels reset before the hub sees them, instead
/// of CONNACK 3), blackhole, latency (what the hub sends held back) and hubRestart (every tunnel reset, the proxy's
/// listener closed).
/// </summary>
public sealed class ChaosFaults(ChaosProxy proxy) : IFaultInjection
{
    public string Source => "chaos";

    public Task<AppliedFault> ApplyAsync(FaultSpec fault, IReadOnlyList<string>? target)
    {
        var only = target is null ? null : FaultTarget.Of(target);
        var on = only is null ? "" : $" of {fault.Target?.ToString() ?? "the targeted devices"}";
        AppliedFault applied;
        switch (fault)
        {
            case DropConnectionsFault { DeviceId: { } id }:
                applied = proxy.CutDevice(id) ? new("drop", $"proxy cut {id}", null, [id]) : new("drop", $"{id} had no connection through the proxy", null, []);
                break;
            case DropConnectionsFault drop:
                var cut = proxy.CutDevices(drop.Fraction, only);
                applied = new("drop", $"proxy cut {cut.Count} connections ({drop.Fraction:P0}{on})", null, cut);
                break;
            case RefuseConnectsFault refuse:
                proxy.Refuse(refuse.For, only);
                applied = new("refuse-connects", $"proxy refusing connections{on} (reset) for {S(refuse.For)} s", refuse.For, []);
                break;
            case BlackholeFault blackhole:
                var silenced = proxy.Blackhole(blackhole.Fraction, blackhole.For, only);
                applied = new("blackhole", $"proxy blackholed {silenced.Count} connections ({blackhole.Fraction:P0}{on}) for {S(blackhole.For)} s", blackhole.For, silenced);
                break;
            case LatencyFault latency:
                proxy.AddLatency(latency.By, latency.Jitter, latency.For, only);
                applied = new("latency", $"proxy holding the hub's bytes{on} {latency.By.TotalMilliseconds:0} ± {latency.Jitter.TotalMilliseconds:0} ms for {S(latency.For)} s", latency.For, []);
                break;
            case HubRestartFault restart:
                if (only is not null)
                    throw new NotSupportedException("a hub restart hits every device; it takes no group or ids");
                var all = proxy.Restart(restart.For);
                applied = new("hub-restart", $"proxy restart: cut {all.Count} connections, listener down for {S(restart.For)} s", restart.For, all);
                break;
            default:
                throw new NotSupportedException($"the chaos proxy cannot apply '{FaultSchedule.KindOf(fault)}' (it needs the hub's cooperation: use hub.embedded.faults)");
        }

        return Task.FromResult(applied);
    }

    private static string S(TimeSpan t) => t.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}
