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
        AppliedFault Event(FaultOutcome outcome) =>
            new(outcome.Kind, FaultDescriptions.Of(fault, outcome.Affected, only is not null), outcome.End - outcome.Start, outcome.AffectedDeviceIds)
            {
                At = outcome.Start,
            };

        switch (fault)
        {
            case DropConnectionsFault { DeviceId: { } id }:
                var closed = await faults.DropDeviceAsync(id);
                return new("drop", FaultDescriptions.Of(fault, closed ? 1 : 0, false), null, closed ? [id] : []);
            case DropConnectionsFault drop:
                return Event(await faults.DropAsync(drop.Fraction, only));
            case RefuseConnectsFault refuse:
                return Event(faults.RefuseConnects(refuse.For, only));
            case DelayAcksFault delay:
                return Event(faults.DelayAcknowledgements(delay.By, delay.For, only));
            case FailTwinFault twin:
                return Event(faults.FailTwinOperations(twin.Status, twin.Ratio, twin.For, only));
            case HubRestartFault restart:
                if (only is not null)
                    throw new NotSupportedException("a hub restart hits every device; it takes no group or ids");
                return Event(await faults.RestartAsync(restart.For));
            case BlackholeFault blackhole:
                return Event(await faults.BlackholeAsync(blackhole.Fraction, blackhole.For, only));
            case ExpireTokensFault expire:
                return Event(await faults.ExpireTokensAsync(expire.Fraction, only));
            case LatencyFault latency:
                return Event(faults.AddLatency(latency.By, latency.Jitter, latency.For, only));
            default:
                throw new NotSupportedException($"the emulator has no fault '{fault.GetType().Name}'");
        }
    }
}
