using FleetSim.Metrics;
using FleetSim.Reporting;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Running;
using FleetSim.Scenarios.Service;

namespace FleetSim.Simulator.Run;

/// <summary>The run's hub: connecting to it (or starting the embedded one), and reading its accounting at the end.</summary>
public static partial class RunSession
{
    private static async Task<HubConnection> ConnectHubAsync(RunRequest request, CancellationToken ct)
    {
        if (request.Hub is not null)
            return HubConnection.External(request.Hub);
        return request.Scenario.Hub switch
        {
            ConnectionStringHub external => HubConnection.External(external),
            EmbeddedHub embedded when embedded.Options.PartitionsFor(request.Scenario.TotalDevices) is > 1 and var partitions =>
                await HubConnection.StartPartitionedAsync(embedded.Options, partitions, Console.Error, ct, request.Tier),
            EmbeddedHub embedded => await HubConnection.StartEmbeddedAsync(embedded.Options, ct, request.Tier),
            _ => throw new InvalidOperationException("unknown hub kind"),
        };
    }

    private static string PartitionExitWarning(Hub.PartitionExit exit, DateTimeOffset start) =>
        $"hub partition {exit.Index} exited during the run (exit code {exit.ExitCode}, {Math.Max(0, (exit.At - start).TotalSeconds):0.#} s after the start): "
        + "the devices it owned lost their hub and could not connect again, and the ingest counts miss what it had counted";

    /// <summary>Counters (in report.json's <c>counters</c>) for what the emulator's quotas throttled during the run.</summary>
    public const string ThrottledConnects = "hub.throttling.refusedConnects";
    public const string ThrottledTwinOperations = "hub.throttling.rejectedTwinOperations";
    public const string ThrottledTelemetry = "hub.throttling.delayedTelemetry";

    /// <summary>
    /// The emulator's accounting at the end of the run: ingest totals of this run's messages (a standing hub may have served
    /// other runs, before or at the same time), and what its quotas throttled (as counters, and a warning when anything
    /// was, since throttling shapes every latency in the report; those counts are hub-wide).
    /// </summary>
    private static async Task<IngestTotals?> ReadIngestAsync(HubServiceClient service, string hubKind, string runId, FleetMetrics metrics, List<string> warnings)
    {
        try
        {
            var stats = await service.GetJsonAsync("fleetsim/stats?run=" + Uri.EscapeDataString(runId), CancellationToken.None);
            if (stats["throttling"] is System.Text.Json.Nodes.JsonObject throttling)
            {
                var connects = throttling["refusedConnects"]?.GetValue<long>() ?? 0;
                var twin = throttling["rejectedTwinOperations"]?.GetValue<long>() ?? 0;
                var telemetry = throttling["delayedTelemetry"]?.GetValue<long>() ?? 0;
                metrics.Counter(ThrottledConnects).Add(connects);
                metrics.Counter(ThrottledTwinOperations).Add(twin);
                metrics.Counter(ThrottledTelemetry).Add(telemetry);
                if (connects + twin + telemetry > 0)
                    warnings.Add($"the hub's quotas throttled the fleet: {connects} connects refused (CONNACK 3), {twin} twin operations rejected (429), {telemetry} telemetry acknowledgements held back; latencies include that throttling");
            }

            return new IngestTotals(
                stats["ingested"]?.GetValue<long>() ?? 0,
                stats["lost"]?.GetValue<long>() ?? 0,
                stats["duplicated"]?.GetValue<long>() ?? 0,
                stats["outOfOrder"]?.GetValue<long>() ?? 0);
        }
        catch (HubServiceException) when (hubKind == HubKinds.External)
        {
            warnings.Add("the hub does not report ingest accounting (a real IoT Hub cannot): lost and duplicated messages are not known");
            return null;
        }
    }
}
