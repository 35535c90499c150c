namespace FleetSim.Protocol;

/// <summary>Hub side: reads the device (and module) id and the property bag from a telemetry topic.</summary>
public static class TelemetryTopic
{
    private const string Events = "/messages/events";

    public static bool TryParse(string topic, out string deviceId, out string? moduleId, out string bag)
    {
        deviceId = "";
        moduleId = null;
        bag = "";
        if (!topic.StartsWith("devices/", StringComparison.Ordinal))
            return false;
        var rest = topic.AsSpan("devices/".Length);
        var events = rest.IndexOf(Events, StringComparison.Ordinal);
        if (events <= 0)
            return false;
        var ids = rest[..events];
        var after = rest[(events + Events.Length)..];
        if (after.Length > 0 && after[0] != '/')
            return false;
        bag = after.Length > 1 ? after[1..].ToString() : "";

        var modules = ids.IndexOf("/modules/", StringComparison.Ordinal);
        if (modules < 0)
        {
            if (ids.Contains('/'))
                return false;
            deviceId = ids.ToString();
            return true;
        }

        deviceId = ids[..modules].ToString();
        moduleId = ids[(modules + "/modules/".Length)..].ToString();
        return deviceId.Length > 0 && moduleId.Length > 0 && !moduleId.Contains('/');
    }
}

/// <summary>Device side: reads the device id and property bag from a C2D topic.</summary>
public static class C2dTopic
{
    private const string DeviceBound = "/messages/devicebound/";

    public static bool TryParse(string topic, out string deviceId, out string bag)
    {
        deviceId = "";
        bag = "";
        if (!topic.StartsWith("devices/", StringComparison.Ordinal))
            return false;
        var rest = topic.AsSpan("devices/".Length);
        var at = rest.IndexOf(DeviceBound, StringComparison.Ordinal);
        if (at <= 0 || rest[..at].Contains('/'))
            return false;
        deviceId = rest[..at].ToString();
        bag = rest[(at + DeviceBound.Length)..].ToString();
        return true;
    }
}
