using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Registry;
using FleetSim.HubEmulator.Twins;

namespace FleetSim.HubEmulator.Rest;

/// <summary>The registry's Device and Twin JSON shapes (PROTOCOL.md sections 4 and 8).</summary>
internal static class DeviceJson
{
    private const string NeverTimestamp = "0001-01-01T00:00:00Z";

    public static JsonObject Device(RegisteredDevice device, int cloudToDeviceMessageCount)
    {
        var d = device.Identity;
        var connection = device.Connection;
        return new JsonObject
        {
            ["deviceId"] = d.DeviceId,
            ["generationId"] = d.GenerationId,
            ["etag"] = d.ETag,
            ["connectionState"] = connection.IsConnected ? "Connected" : "Disconnected",
            ["status"] = d.Status,
            ["statusReason"] = d.StatusReason,
            ["connectionStateUpdatedTime"] = Time(connection.StateChanged),
            ["statusUpdatedTime"] = Time(d.StatusUpdatedTime),
            ["lastActivityTime"] = Time(connection.LastActivity),
            ["cloudToDeviceMessageCount"] = cloudToDeviceMessageCount,
            ["authentication"] = new JsonObject
            {
                ["symmetricKey"] = new JsonObject { ["primaryKey"] = d.PrimaryKey, ["secondaryKey"] = d.SecondaryKey },
                ["x509Thumbprint"] = Thumbprints(d),
                ["type"] = DeviceIdentity.WireName(d.AuthenticationType),
            },
            ["capabilities"] = new JsonObject { ["iotEdge"] = d.IotEdge },
        };
    }

    public static JsonObject Twin(RegisteredDevice device, int cloudToDeviceMessageCount)
    {
        var d = device.Identity;
        var connection = device.Connection;
        var twin = new JsonObject { ["deviceId"] = d.DeviceId };
        device.Twin.WriteServiceView(twin);
        var ordered = new JsonObject
        {
            ["deviceId"] = d.DeviceId,
            ["etag"] = twin["etag"]!.DeepClone(),
            ["deviceEtag"] = d.ETag,
            ["status"] = d.Status,
            ["statusReason"] = d.StatusReason,
            ["statusUpdateTime"] = Time(d.StatusUpdatedTime),
            ["connectionState"] = connection.IsConnected ? "Connected" : "Disconnected",
            ["lastActivityTime"] = Time(connection.LastActivity),
            ["cloudToDeviceMessageCount"] = cloudToDeviceMessageCount,
            ["authenticationType"] = DeviceIdentity.WireName(d.AuthenticationType),
            ["x509Thumbprint"] = Thumbprints(d),
            ["modelId"] = connection.ModelId ?? "",
            ["version"] = twin["version"]!.DeepClone(),
            ["capabilities"] = new JsonObject { ["iotEdge"] = d.IotEdge },
            ["tags"] = twin["tags"]!.DeepClone(),
            ["properties"] = twin["properties"]!.DeepClone(),
        };
        return ordered;
    }

    private static JsonObject Thumbprints(DeviceIdentity d) =>
        new() { ["primaryThumbprint"] = d.PrimaryThumbprint, ["secondaryThumbprint"] = d.SecondaryThumbprint };

    private static string Time(DateTimeOffset time) => time.UtcTicks == 0 ? NeverTimestamp : DeviceTwin.Timestamp(time);
}
