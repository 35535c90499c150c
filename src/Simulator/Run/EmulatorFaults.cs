using FleetSim.HubEmulator.Faults;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Running;

namespace FleetSim.Simulator.Run;

/// <summary>Scenario faults applied through the embedded emulator's fault injector.</summary>
public sealed class EmulatorFaults(FaultInjector faults) : IFaultInjection
{
    public async Task<AppliedFault> ApplyAsync(FaultSpec fault, IReadOnlyList<string>? target)
    {
        var only = target is null ? null : FaultTarget.Of(target);
        var on = only is null ? "" : $" of {Describe(fault.Target)}";
        switch (fault)
        {
            case DropConnectionsFault { DeviceId: { } id }:
                var closed = await faults.DropDeviceAsync(id);
                return new("drop", closed ? $"dropped {id}" : $"{id} was not connected", null, closed ? [id] : []);
            case DropConnectionsFault drop:
                var dropped = await faults.DropAsync(drop.Fraction, only);
                return Event(dropped, $"dropped {dropped.Affected} connections ({drop.Fraction:P0}{on})");
            case RefuseConnectsFault refuse:
                return Event(faults.RefuseConnects(refuse.For, only), $"refusing connects{on} (CONNACK 3) for {S(refuse.For)} s");
            case DelayAcksFault delay:
                return Event(faults.DelayAcknowledgements(delay.By, delay.For, only),
                    $"delaying acknowledgements{on} by {delay.By.TotalMilliseconds:0} ms for {S(delay.For)} s");
            case FailTwinFault twin:
                return Event(faults.FailTwinOperations(twin.Status, twin.Ratio, twin.For, only),
                    $"failing {twin.Ratio:P0} of twin operations{on} with {twin.Status} for {S(twin.For)} s");
            case HubRestartFault restart:
                if (only is not null)
                    throw new NotSupportedException("a hub restart hits every device; it takes no group or ids");
                var restarted = await faults.RestartAsync(restart.For);
                return Event(restarted, $"hub restart: dropped {restarted.Affected} connections, listeners down for {S(restart.For)} s");
            case BlackholeFault blackhole:
                var silenced = await faults.BlackholeAsync(blackhole.Fraction, blackhole.For, only);
                return Event(silenced, $"blackholed {silenced.Affected} connections ({blackhole.Fraction:P0}{on}) for {S(blackhole.For)} s");
            case ExpireTokensFault expire:
                var expired = await faults.ExpireTokensAsync(expire.Fraction, only);
                return Event(expired, $"expired the SAS tokens of {expired.Affected} devices ({expire.Fraction:P0}{on})");
            case LatencyFault latency:
                return Event(faults.AddLatency(latency.By, latency.Jitter, latency.For, only),
                    $"answers{on} {latency.By.TotalMilliseconds:0} ± {latency.Jitter.TotalMilliseconds:0} ms late for {S(latency.For)} s");
            default:
                throw new NotSupportedException($"the emulator has no fault '{fault.GetType().Name}'");
        }
    }

    private static AppliedFault Event(FaultOutcome outcome, string description) =>
        new(outcome.Kind, description, outcome.End - outcome.Start, outcome.AffectedDeviceIds);

    private static string Describe(FaultTargetSpec? target) => target?.ToString() ?? "every device";

    private static string S(TimeSpan t) => t.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}
