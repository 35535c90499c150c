using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace FleetSim.HubEmulator.Rest;

/// <summary>What the emulator counted, as one record (also served as JSON by <c>GET /fleetsim/stats</c>).</summary>
public sealed record EmulatorStats(
    long Ingested,
    long Lost,
    long Duplicated,
    long OutOfOrder,
    int DevicesRegistered,
    long DevicesConnected,
    long ConnectsAccepted,
    long ConnectsRefused,
    IReadOnlyDictionary<string, long> RefusedByReason,
    IReadOnlyDictionary<string, long> DisconnectsByReason,
    long FaultDroppedConnections,
    long FaultRefusedConnects,
    long FaultFailedTwinOperations,
    long TwinGets,
    long ReportedPatches,
    long DesiredPushes,
    long C2dDelivered,
    long C2dCompleted,
    long ThrottledConnects,
    long ThrottledTwinOperations,
    long ThrottledTelemetryDelayed,
    long RegistryOperations = 0,
    long ThrottledRegistryOperations = 0);

/// <summary>
/// Emulator extension <c>GET /fleetsim/stats[?run=ID]</c> (service SAS required): ingest accounting and connection
/// counters. With <c>run</c>, the ingest fields (ingested, lost, duplicated, outOfOrder) count only the messages that
/// carried that run id (fleetsim-run); every other field stays hub-wide (connections and throttling have no run).
/// </summary>
internal static class StatsEndpoint
{
    public static EmulatorStats Collect(HubServices hub, string? run = null)
    {
        var totals = string.IsNullOrEmpty(run) ? hub.Ingest.Totals : hub.Ingest.ForRun(run);
        var counters = hub.Mqtt.Counters;
        return new EmulatorStats(
            totals.Ingested,
            totals.Lost,
            totals.Duplicated,
            totals.OutOfOrder,
            hub.Registry.Count,
            counters.Connected,
            counters.Accepted,
            counters.Refused,
            counters.RefusalsByReason(),
            counters.DisconnectsByReason(),
            hub.Faults.DroppedConnections,
            hub.Faults.RefusedConnects,
            hub.Faults.FailedTwinOperations,
            hub.TwinRequests.Gets,
            hub.TwinRequests.ReportedPatches,
            hub.Twins.DesiredPushes,
            hub.C2d.Delivered,
            hub.C2d.Completed,
            hub.Throttle.ThrottledConnects,
            hub.Throttle.ThrottledTwinOperations,
            hub.Throttle.DelayedTelemetry,
            hub.Throttle.RegistryOperations,
            hub.Throttle.ThrottledRegistryOperations);
    }

    public static IResult Get(HubServices hub, string? run = null)
    {
        var s = Collect(hub, run);
        var json = new JsonObject
        {
            ["ingested"] = s.Ingested,
            ["lost"] = s.Lost,
            ["duplicated"] = s.Duplicated,
            ["outOfOrder"] = s.OutOfOrder,
            ["devicesRegistered"] = s.DevicesRegistered,
            ["devicesConnected"] = s.DevicesConnected,
            ["connectsAccepted"] = s.ConnectsAccepted,
            ["connectsRefused"] = s.ConnectsRefused,
            ["refusedByReason"] = Map(s.RefusedByReason),
            ["disconnectsByReason"] = Map(s.DisconnectsByReason),
            ["faults"] = new JsonObject
            {
                ["droppedConnections"] = s.FaultDroppedConnections,
                ["refusedConnects"] = s.FaultRefusedConnects,
                ["failedTwinOperations"] = s.FaultFailedTwinOperations,
            },
            ["twin"] = new JsonObject
            {
                ["gets"] = s.TwinGets,
                ["reportedPatches"] = s.ReportedPatches,
                ["desiredPushes"] = s.DesiredPushes,
            },
            ["c2d"] = new JsonObject { ["delivered"] = s.C2dDelivered, ["completed"] = s.C2dCompleted },
            ["throttling"] = new JsonObject
            {
                ["refusedConnects"] = s.ThrottledConnects,
                ["rejectedTwinOperations"] = s.ThrottledTwinOperations,
                ["delayedTelemetry"] = s.ThrottledTelemetryDelayed,
                ["rejectedRegistryOperations"] = s.ThrottledRegistryOperations,
            },
            ["registry"] = new JsonObject { ["operations"] = s.RegistryOperations },
        };
        if (!string.IsNullOrEmpty(run))
        {
            json["run"] = run; // the ingest fields above are this run's
        }

        return DeviceEndpoints.Json(json);
    }

    /// <summary><c>GET /fleetsim/devices/{id}/messages</c>: the recorded telemetry (body as text and base64, properties).</summary>
    public static IResult RecentTelemetry(HubServices hub, string id)
    {
        var list = new JsonArray();
        foreach (var m in hub.Telemetry.Recent(id))
        {
            list.Add(new JsonObject
            {
                ["receivedAt"] = Twins.DeviceTwin.Timestamp(m.ReceivedAt),
                ["body"] = System.Text.Encoding.UTF8.GetString(m.Body),
                ["bodyBase64"] = Convert.ToBase64String(m.Body),
                ["systemProperties"] = Strings(m.SystemProperties),
                ["properties"] = Strings(m.ApplicationProperties),
            });
        }

        return DeviceEndpoints.Json(new JsonObject { ["recording"] = hub.Telemetry.Enabled, ["messages"] = list });
    }

    private static JsonObject Strings(IReadOnlyDictionary<string, string?> values)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in values)
        {
            obj[key] = value;
        }

        return obj;
    }

    private static JsonObject Map(IReadOnlyDictionary<string, long> values)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in values)
        {
            obj[key] = value;
        }

        return obj;
    }
}
