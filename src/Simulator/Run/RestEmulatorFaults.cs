using System.Text.Json.Nodes;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Running;
using FleetSim.Scenarios.Service;

namespace FleetSim.Simulator.Run;

/// <summary>
/// Scenario faults applied through the emulator's REST extension <c>POST /fleetsim/faults/{fault}</c>: how a run reaches
/// an embedded hub split over partition processes. The hub's front sends a fault naming a device to that device's
/// partition and every other fault to all partitions (a fraction drops that fraction of each partition's devices).
/// </summary>
public sealed class RestEmulatorFaults(HubServiceClient service) : IFaultInjection
{
    public async Task<string> ApplyAsync(FaultSpec fault)
    {
        switch (fault)
        {
            case DropConnectionsFault { DeviceId: { } id }:
                return await DroppedAsync(new JsonObject { ["deviceId"] = id }) > 0 ? $"dropped {id}" : $"{id} was not connected";
            case DropConnectionsFault drop:
                return $"dropped {await DroppedAsync(new JsonObject { ["fraction"] = drop.Fraction })} connections ({drop.Fraction:P0})";
            case RefuseConnectsFault refuse:
                await PostAsync("refuse-connects", new JsonObject { ["seconds"] = refuse.For.TotalSeconds });
                return $"refusing connects (CONNACK 3) for {refuse.For.TotalSeconds:0.###} s";
            case DelayAcksFault delay:
                await PostAsync("ack-delay", new JsonObject { ["milliseconds"] = delay.By.TotalMilliseconds, ["seconds"] = delay.For.TotalSeconds });
                return $"delaying acknowledgements by {delay.By.TotalMilliseconds:0} ms for {delay.For.TotalSeconds:0.###} s";
            case FailTwinFault twin:
                await PostAsync("twin-failures", new JsonObject { ["status"] = twin.Status, ["ratio"] = twin.Ratio, ["seconds"] = twin.For.TotalSeconds });
                return $"failing {twin.Ratio:P0} of twin operations with {twin.Status} for {twin.For.TotalSeconds:0.###} s";
            default:
                throw new NotSupportedException($"the partitioned emulator has no fault '{fault.GetType().Name}'");
        }
    }

    private async Task<long> DroppedAsync(JsonObject body) =>
        (await PostAsync("drop", body))?["dropped"]?.GetValue<long>() ?? 0;

    private Task<JsonNode?> PostAsync(string fault, JsonObject body) =>
        service.PostJsonAsync("fleetsim/faults/" + fault, body, CancellationToken.None);
}
