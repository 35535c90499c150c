using System.Globalization;
using FleetSim.Scenarios.Model;

namespace FleetSim.Simulator.Run;

/// <summary>
/// What the report says a fault did, the same words whichever way it reached the hub (the in-process injector or the
/// partitioned hub's REST API).
/// </summary>
public static class FaultDescriptions
{
    /// <param name="fault">The scenario's fault.</param>
    /// <param name="affected">The connections it dropped, silenced or expired (for a drop of one device: 1 if it was connected).</param>
    /// <param name="targeted">Whether it was limited to a group or to ids.</param>
    public static string Of(FaultSpec fault, int affected, bool targeted)
    {
        var on = targeted ? $" of {fault.Target?.ToString() ?? "the targeted devices"}" : "";
        return fault switch
        {
            DropConnectionsFault { DeviceId: { } id } => affected > 0 ? $"dropped {id}" : $"{id} was not connected",
            DropConnectionsFault drop => $"dropped {affected} connections ({drop.Fraction:P0}{on})",
            RefuseConnectsFault refuse => $"refusing connects{on} (CONNACK 3) for {S(refuse.For)} s",
            DelayAcksFault delay => $"delaying acknowledgements{on} by {delay.By.TotalMilliseconds:0} ms for {S(delay.For)} s",
            FailTwinFault twin => $"failing {twin.Ratio:P0} of twin operations{on} with {twin.Status} for {S(twin.For)} s",
            HubRestartFault restart => $"hub restart: dropped {affected} connections, listeners down for {S(restart.For)} s",
            BlackholeFault blackhole => $"blackholed {affected} connections ({blackhole.Fraction:P0}{on}) for {S(blackhole.For)} s",
            ExpireTokensFault expire => $"expired the SAS tokens of {affected} devices ({expire.Fraction:P0}{on})",
            LatencyFault latency => $"answers{on} {latency.By.TotalMilliseconds:0} ± {latency.Jitter.TotalMilliseconds:0} ms late for {S(latency.For)} s",
            _ => fault.GetType().Name,
        };
    }

    private static string S(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
}
