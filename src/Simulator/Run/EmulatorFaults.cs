using FleetSim.HubEmulator.Faults;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Running;

namespace FleetSim.Simulator.Run;

/// <summary>Scenario faults applied through the embedded emulator's fault injector.</summary>
public sealed class EmulatorFaults(FaultInjector faults) : IFaultInjection
{
    public async Task<string> ApplyAsync(FaultSpec fault)
    {
        switch (fault)
        {
            case DropConnectionsFault { DeviceId: { } id }:
                return await faults.DropDeviceAsync(id) ? $"dropped {id}" : $"{id} was not connected";
            case DropConnectionsFault drop:
                return $"dropped {await faults.DropFractionAsync(drop.Fraction)} connections ({drop.Fraction:P0})";
            case RefuseConnectsFault refuse:
                faults.RefuseConnects(refuse.For);
                return $"refusing connects (CONNACK 3) for {refuse.For.TotalSeconds:0.###} s";
            case DelayAcksFault delay:
                faults.DelayAcknowledgements(delay.By, delay.For);
                return $"delaying acknowledgements by {delay.By.TotalMilliseconds:0} ms for {delay.For.TotalSeconds:0.###} s";
            case FailTwinFault twin:
                faults.FailTwinOperations(twin.Status, twin.Ratio, twin.For);
                return $"failing {twin.Ratio:P0} of twin operations with {twin.Status} for {twin.For.TotalSeconds:0.###} s";
            default:
                throw new NotSupportedException($"the emulator has no fault '{fault.GetType().Name}'");
        }
    }
}
