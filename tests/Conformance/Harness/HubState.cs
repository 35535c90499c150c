using System.Text.Json;

namespace FleetSim.Conformance.Tests.Harness;

/// <summary>The state file `fleetsim hub --state-file` writes once it listens.</summary>
public sealed record HubState(string ServiceConnectionString, string CaCertificatePath, string HostName, int MqttPort, int HttpsPort)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Null while the file is absent, partly written or incomplete.</summary>
    public static HubState? TryRead(string path)
    {
        try
        {
            var state = JsonSerializer.Deserialize<HubState>(File.ReadAllText(path), Json);
            return state is { ServiceConnectionString.Length: > 0, CaCertificatePath.Length: > 0, HostName.Length: > 0, MqttPort: > 0, HttpsPort: > 0 }
                ? state
                : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
