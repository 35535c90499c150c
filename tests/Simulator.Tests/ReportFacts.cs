using System.Text.Json.Nodes;

namespace FleetSim.Simulator.Tests;

/// <summary>What a run's report.json says about the moments around its faults.</summary>
internal static class ReportFacts
{
    /// <summary>
    /// Devices connected at the last 1-second sample before <paramref name="fault"/> took effect (its
    /// <c>appliedAtSeconds</c>, on the scenario's clock, moved to the time series' clock). A fault planned a few seconds
    /// in can find some devices still connecting on a loaded machine: cutting a connection that is not up yet is a connect
    /// failure the device retries, not a connection it lost, so what the devices saw depends on this number.
    /// </summary>
    public static long ConnectedWhenApplied(JsonNode report, JsonNode fault)
    {
        var at = report["run"]!["scenarioStartSeconds"]!.GetValue<double>() + fault["appliedAtSeconds"]!.GetValue<double>();
        long connected = 0;
        foreach (var point in report["timeSeries"]!.AsArray())
        {
            if (point!["seconds"]!.GetValue<double>() >= at)
                break;
            connected = point["connected"]!.GetValue<long>();
        }

        return connected;
    }
}
