using System.Text.Json.Nodes;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Running;
using FleetSim.Scenarios.Service;

namespace FleetSim.Simulator.Run;

/// <summary>
/// Scenario faults applied through the emulator's REST extension <c>POST /fleetsim/faults/{fault}</c>: how a run reaches
/// an embedded hub split over partition processes. The hub's front sends a fault naming a device to that device's
/// partition and every other fault to all partitions (a fraction hits that fraction of each partition's devices), and
/// merges the partitions' fault events (counts summed, device ids joined).
/// </summary>
public sealed class RestEmulatorFaults(HubServiceClient service) : IFaultInjection
{
    public async Task<AppliedFault> ApplyAsync(FaultSpec fault, IReadOnlyList<string>? target)
    {
        JsonObject Body(JsonObject body)
        {
            if (target is not null)
                body["ids"] = new JsonArray([.. target.Select(static t => (JsonNode)JsonValue.Create(t))]);
            return body;
        }

        var (kind, body) = fault switch
        {
            DropConnectionsFault { DeviceId: { } id } => ("drop", new JsonObject { ["deviceId"] = id }),
            DropConnectionsFault drop => ("drop", Body(new JsonObject { ["fraction"] = drop.Fraction })),
            RefuseConnectsFault refuse => ("refuse-connects", Body(new JsonObject { ["seconds"] = refuse.For.TotalSeconds })),
            DelayAcksFault delay => ("ack-delay", Body(new JsonObject { ["milliseconds"] = delay.By.TotalMilliseconds, ["seconds"] = delay.For.TotalSeconds })),
            FailTwinFault twin => ("twin-failures", Body(new JsonObject { ["status"] = twin.Status, ["ratio"] = twin.Ratio, ["seconds"] = twin.For.TotalSeconds })),
            HubRestartFault restart => target is null
                ? ("hub-restart", new JsonObject { ["seconds"] = restart.For.TotalSeconds })
                : throw new NotSupportedException("a hub restart hits every device; it takes no group or ids"),
            BlackholeFault blackhole => ("blackhole", Body(new JsonObject { ["fraction"] = blackhole.Fraction, ["seconds"] = blackhole.For.TotalSeconds })),
            ExpireTokensFault expire => ("expire-tokens", Body(new JsonObject { ["fraction"] = expire.Fraction })),
            LatencyFault latency => ("latency", Body(new JsonObject
            {
                ["milliseconds"] = latency.By.TotalMilliseconds, ["jitterMilliseconds"] = latency.Jitter.TotalMilliseconds, ["seconds"] = latency.For.TotalSeconds,
            })),
            _ => throw new NotSupportedException($"the partitioned emulator has no fault '{fault.GetType().Name}'"),
        };
        var e = await PostAsync(kind, body);
        var targeted = target is not null && fault is not DropConnectionsFault { DeviceId: not null };
        return new(kind, FaultDescriptions.Of(fault, e.Affected, targeted), fault is DropConnectionsFault or ExpireTokensFault ? null : fault.Lasts, e.Ids)
        {
            Affected = e.Affected,
            At = e.Start,
        };
    }

    private async Task<(int Affected, IReadOnlyList<string> Ids, DateTimeOffset? Start)> PostAsync(string fault, JsonObject body)
    {
        var answer = await service.PostJsonAsync("fleetsim/faults/" + fault, body, CancellationToken.None);
        var ids = answer?["deviceIds"] is JsonArray list ? list.Select(static n => n!.GetValue<string>()).ToList() : [];
        var affected = answer?["affected"] is JsonValue v && v.TryGetValue<int>(out var n) ? n : ids.Count;
        // The fault event's start (the partition that answered first, when the front fanned the fault out): when it took effect.
        var start = answer?["start"] is JsonValue s && s.TryGetValue<DateTimeOffset>(out var at) ? at : (DateTimeOffset?)null;
        return (affected, ids, start);
    }
}
