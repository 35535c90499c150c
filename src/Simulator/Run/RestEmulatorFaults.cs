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
        var on = target is null ? "" : $" of {fault.Target?.ToString() ?? "the targeted devices"}";
        JsonObject Body(JsonObject body)
        {
            if (target is not null)
                body["ids"] = new JsonArray([.. target.Select(static t => (JsonNode)JsonValue.Create(t))]);
            return body;
        }

        switch (fault)
        {
            case DropConnectionsFault { DeviceId: { } id }:
            {
                var e = await PostAsync("drop", new JsonObject { ["deviceId"] = id });
                return new("drop", e.Affected > 0 ? $"dropped {id}" : $"{id} was not connected", null, e.Ids) { Affected = e.Affected };
            }
            case DropConnectionsFault drop:
            {
                var e = await PostAsync("drop", Body(new JsonObject { ["fraction"] = drop.Fraction }));
                return new("drop", $"dropped {e.Affected} connections ({drop.Fraction:P0}{on})", null, e.Ids) { Affected = e.Affected };
            }
            case RefuseConnectsFault refuse:
            {
                var e = await PostAsync("refuse-connects", Body(new JsonObject { ["seconds"] = refuse.For.TotalSeconds }));
                return new("refuse-connects", $"refusing connects{on} (CONNACK 3) for {S(refuse.For)} s", refuse.For, e.Ids) { Affected = e.Affected };
            }
            case DelayAcksFault delay:
            {
                var e = await PostAsync("ack-delay", Body(new JsonObject { ["milliseconds"] = delay.By.TotalMilliseconds, ["seconds"] = delay.For.TotalSeconds }));
                return new("ack-delay", $"delaying acknowledgements{on} by {delay.By.TotalMilliseconds:0} ms for {S(delay.For)} s", delay.For, e.Ids) { Affected = e.Affected };
            }
            case FailTwinFault twin:
            {
                var e = await PostAsync("twin-failures", Body(new JsonObject { ["status"] = twin.Status, ["ratio"] = twin.Ratio, ["seconds"] = twin.For.TotalSeconds }));
                return new("twin-failures", $"failing {twin.Ratio:P0} of twin operations{on} with {twin.Status} for {S(twin.For)} s", twin.For, e.Ids) { Affected = e.Affected };
            }
            case HubRestartFault restart:
            {
                if (target is not null)
                    throw new NotSupportedException("a hub restart hits every device; it takes no group or ids");
                var e = await PostAsync("hub-restart", new JsonObject { ["seconds"] = restart.For.TotalSeconds });
                return new("hub-restart", $"hub restart: dropped {e.Affected} connections, listeners down for {S(restart.For)} s", restart.For, e.Ids) { Affected = e.Affected };
            }
            case BlackholeFault blackhole:
            {
                var e = await PostAsync("blackhole", Body(new JsonObject { ["fraction"] = blackhole.Fraction, ["seconds"] = blackhole.For.TotalSeconds }));
                return new("blackhole", $"blackholed {e.Affected} connections ({blackhole.Fraction:P0}{on}) for {S(blackhole.For)} s", blackhole.For, e.Ids) { Affected = e.Affected };
            }
            case ExpireTokensFault expire:
            {
                var e = await PostAsync("expire-tokens", Body(new JsonObject { ["fraction"] = expire.Fraction }));
                return new("expire-tokens", $"expired the SAS tokens of {e.Affected} devices ({expire.Fraction:P0}{on})", null, e.Ids) { Affected = e.Affected };
            }
            case LatencyFault latency:
            {
                var e = await PostAsync("latency", Body(new JsonObject
                {
                    ["milliseconds"] = latency.By.TotalMilliseconds, ["jitterMilliseconds"] = latency.Jitter.TotalMilliseconds, ["seconds"] = latency.For.TotalSeconds,
                }));
                return new("latency", $"answers{on} {latency.By.TotalMilliseconds:0} ± {latency.Jitter.TotalMilliseconds:0} ms late for {S(latency.For)} s", latency.For, e.Ids) { Affected = e.Affected };
            }
            default:
                throw new NotSupportedException($"the partitioned emulator has no fault '{fault.GetType().Name}'");
        }
    }

    private async Task<(int Affected, IReadOnlyList<string> Ids)> PostAsync(string fault, JsonObject body)
    {
        var answer = await service.PostJsonAsync("fleetsim/faults/" + fault, body, CancellationToken.None);
        var ids = answer?["deviceIds"] is JsonArray list ? list.Select(static n => n!.GetValue<string>()).ToList() : [];
        var affected = answer?["affected"] is JsonValue v && v.TryGetValue<int>(out var n) ? n : ids.Count;
        return (affected, ids);
    }

    private static string S(TimeSpan t) => t.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}
