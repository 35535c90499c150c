using System.Globalization;
using FleetSim.Protocol.Tiers;
using FleetSim.Scenarios.Load;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Service;

namespace FleetSim.Simulator.Run;

/// <summary>
/// What a scenario asks of a hub against what its tier allows: registration calls and their time at the registry
/// throttle, the connect rates of the load phases against the new-connection throttle, telemetry against the
/// device-to-cloud throttle and the daily message quota. Used by --dry-run and before every run with a known tier.
/// </summary>
public static class TierCheck
{
    public sealed record Result(IReadOnlyList<string> Lines, IReadOnlyList<string> Warnings);

    /// <param name="pacing">The run's pacing: when it paces to limits, the connect and telemetry warnings give way to its own lines (<see cref="LoadPacing.Describe"/>).</param>
    public static Result Evaluate(Scenario scenario, HubTier? tier, bool registersAll, LoadPacing? pacing = null)
    {
        var pacedToLimits = pacing?.Limits is not null;
        var lines = new List<string>();
        var warnings = new List<string>();
        var registered = registersAll ? scenario.TotalDevices : scenario.DeviceGroups.Where(g => g.ConnectionStrings is null).Sum(g => g.Count);
        var calls = (registered + HubServiceClient.MaxBulkDevices - 1) / HubServiceClient.MaxBulkDevices;
        if (tier is null)
        {
            lines.Add($"registration: {registered:N0} devices in {calls:N0} bulk calls of up to {HubServiceClient.MaxBulkDevices} (tier unknown: not paced; give --tier to pace and check the run)");
        }
        else
        {
            var paced = tier.RegistryOperationsPerSecond * PacingLimits.Headroom;
            var time = TimeSpan.FromSeconds(Math.Max(0, calls - 1) / paced);
            lines.Add($"registration: {registered:N0} devices in {calls:N0} bulk calls of up to {HubServiceClient.MaxBulkDevices}, paced to {tier}'s registry throttle "
                      + $"({tier.RegistryOperationsPerSecond * 60:0.#}/min): about {Show(time)}, plus one registry read per device that already exists");
        }

        // Connect rates the load phases ask for.
        var (peakRate, rampTime, devicesConnected) = ConnectRates(scenario);
        var asked = double.IsPositiveInfinity(peakRate) ? "all at once" : $"{peakRate:0.#}/s at the peak";
        lines.Add($"connects: {devicesConnected:N0} device connects planned, {asked}, over {Show(rampTime)} of ramps");
        var telemetry = scenario.DeviceGroups.Sum(g => g.Count * (g.Telemetry?.RatePerSecond ?? 0));
        lines.Add($"telemetry: {telemetry:0.#} messages/s with every device connected (phase rate changes not included), about {telemetry * scenario.Duration.TotalSeconds:N0} messages over {Show(scenario.Duration)}");
        if (tier is null)
            return new Result(lines, warnings);

        lines.Add($"tier {tier}: {tier.ConnectsPerSecond:0.#} new connections/s, {tier.TelemetryPerSecond:0.#} device-to-cloud sends/s, {tier.DailyMessages:N0} messages/day");
        if (!pacedToLimits && peakRate > tier.ConnectsPerSecond && devicesConnected > tier.ConnectsPerSecond)
        {
            var needed = TimeSpan.FromSeconds(devicesConnected / tier.ConnectsPerSecond);
            warnings.Add($"the load phases connect devices {asked}, more than {tier}'s {tier.ConnectsPerSecond:0.#} new connections/s: connecting {devicesConnected:N0} devices takes at least {Show(needed)} "
                         + $"(the phases plan {Show(rampTime)}); refused connects (CONNACK 3) are retried with backoff (pacing is off: --no-pace or hub.pace: false)");
        }

        if (!pacedToLimits && telemetry > tier.TelemetryPerSecond)
            warnings.Add($"telemetry asks {telemetry:0.#} messages/s, more than {tier}'s {tier.TelemetryPerSecond:0.#} device-to-cloud sends/s: the hub will slow or refuse the excess "
                         + "(pacing is off: --no-pace or hub.pace: false)");
        // Paced, every interval is longer by the telemetry factor and the run as long as the paced phases.
        var total = telemetry / (pacing?.TelemetryFactor ?? 1) * (pacing?.Duration ?? scenario.Duration).TotalSeconds;
        if (total > tier.DailyMessages)
            warnings.Add($"the run sends about {total:N0} messages, more than {tier}'s daily quota of {tier.DailyMessages:N0}: the hub refuses sends once the day's quota is used");
        return new Result(lines, warnings);
    }

    /// <summary>The highest connect rate the phases ask for (infinity: at once), the time their ramps take, and the devices they connect.</summary>
    public static (double PeakRate, TimeSpan RampTime, int Devices) ConnectRates(Scenario scenario)
    {
        if (scenario.Load.Count == 0)
            return (double.PositiveInfinity, TimeSpan.Zero, scenario.TotalDevices);
        double peak = 0, from = 0;
        var ramp = TimeSpan.Zero;
        var devices = 0;
        foreach (var phase in scenario.Load)
        {
            switch (phase)
            {
                case RampPhase r when r.To > from:
                    var added = Math.Min(r.To, scenario.TotalDevices) - from;
                    peak = Math.Max(peak, r.Over <= TimeSpan.Zero ? double.PositiveInfinity : added / r.Over.TotalSeconds);
                    ramp += r.Over;
                    devices += (int)added;
                    from = Math.Min(r.To, scenario.TotalDevices);
                    break;
                case RampPhase r:
                    from = r.To;
                    break;
                case RampDownPhase d:
                    from = Math.Min(from, d.To);
                    break;
                case InjectPhase i:
                    var injected = Math.Min(i.DevicesAdded, scenario.TotalDevices - from);
                    peak = Math.Max(peak, i.PerSecond);
                    ramp += i.For;
                    devices += (int)injected;
                    from += injected;
                    break;
            }
        }

        return (peak, ramp, devices);
    }

    public static string Show(TimeSpan time) => time.TotalSeconds switch
    {
        < 1 => "under a second",
        < 120 => string.Create(CultureInfo.InvariantCulture, $"{time.TotalSeconds:0} s"),
        < 7200 => string.Create(CultureInfo.InvariantCulture, $"{time.TotalMinutes:0.#} min"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{time.TotalHours:0.#} h"),
    };
}
