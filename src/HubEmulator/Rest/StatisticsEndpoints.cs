using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace FleetSim.HubEmulator.Rest;

/// <summary>
/// <c>GET /statistics/devices</c> (RegistryStatistics: totalDeviceCount, enabledDeviceCount, disabledDeviceCount; azure-iothub
/// <c>Registry.getRegistryStatistics</c>) and <c>GET /statistics/service</c> (ServiceStatistics: connectedDeviceCount).
/// A partitioned hub answers them by adding up its partitions' answers.
/// </summary>
internal static class StatisticsEndpoints
{
    public static IResult Devices(HubServices hub)
    {
        long total = 0, enabled = 0;
        foreach (var device in hub.Registry.All)
        {
            total++;
            if (device.Identity.Enabled)
            {
                enabled++;
            }
        }

        return DeviceEndpoints.Json(new JsonObject
        {
            ["totalDeviceCount"] = total,
            ["enabledDeviceCount"] = enabled,
            ["disabledDeviceCount"] = total - enabled,
        });
    }

    public static IResult Service(HubServices hub) =>
        DeviceEndpoints.Json(new JsonObject { ["connectedDeviceCount"] = hub.Mqtt.Counters.Connected });
}
