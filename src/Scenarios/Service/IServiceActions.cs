using System.Text.Json.Nodes;

namespace FleetSim.Scenarios.Service;

/// <summary>The service-side operations a scenario drives at rates (the production implementation is <see cref="HubServiceActions"/>).</summary>
public interface IServiceActions
{
    /// <summary>Invokes a direct method; returns the device's status. Hub errors (404103, 504) throw <see cref="HubServiceException"/>.</summary>
    Task<int> InvokeMethodAsync(string deviceId, string methodName, JsonNode? payload, TimeSpan responseTimeout, TimeSpan connectTimeout, CancellationToken ct);

    Task PatchDesiredAsync(string deviceId, JsonObject desired, CancellationToken ct);

    Task SendC2dAsync(string deviceId, byte[] body, IReadOnlyList<KeyValuePair<string, string?>> properties, CancellationToken ct);
}

/// <summary>Service actions over the hub's REST API. C2D goes to the emulator's HTTPS extension endpoint (a real hub sends C2D over AMQP).</summary>
public sealed class HubServiceActions(HubServiceClient client) : IServiceActions
{
    public async Task<int> InvokeMethodAsync(string deviceId, string methodName, JsonNode? payload, TimeSpan responseTimeout, TimeSpan connectTimeout, CancellationToken ct)
    {
        var (status, _) = await client.InvokeMethodAsync(deviceId, methodName, payload,
            (int)Math.Ceiling(responseTimeout.TotalSeconds), (int)Math.Ceiling(connectTimeout.TotalSeconds), ct);
        return status;
    }

    public Task PatchDesiredAsync(string deviceId, JsonObject desired, CancellationToken ct) => client.PatchDesiredAsync(deviceId, desired, ct);

    public Task SendC2dAsync(string deviceId, byte[] body, IReadOnlyList<KeyValuePair<string, string?>> properties, CancellationToken ct) =>
        client.SendC2dAsync(deviceId, body, properties, ct);
}
