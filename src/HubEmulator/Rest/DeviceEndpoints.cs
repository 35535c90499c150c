using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Mqtt;
using FleetSim.HubEmulator.Registry;
using FleetSim.Protocol;
using Microsoft.AspNetCore.Http;

namespace FleetSim.HubEmulator.Rest;

/// <summary>Registry endpoints: <c>PUT/GET/DELETE /devices/{id}</c> with IoT Hub's rules and error codes.</summary>
internal static class DeviceEndpoints
{
    public static IResult Get(HubServices hub, string id)
    {
        var device = hub.Registry.Find(id);
        return device is null ? RestErrors.DeviceNotFound(id) : Json(DeviceJson.Device(device, hub.C2dCount(device)));
    }

    public static async Task<IResult> PutAsync(HubServices hub, HttpRequest request, string id)
    {
        var read = await JsonBody.ReadAsync<JsonObject>(request, "a Device JSON object").ConfigureAwait(false);
        if (read.Value is not { } body)
        {
            return read.Error!;
        }

        if (!TryReadSpec(id, body, out var spec, out var error))
        {
            return RestErrors.BadRequest(error);
        }

        (RegistryWriteOutcome Outcome, DeviceIdentity? Identity) result;
        try
        {
            result = hub.Registry.Put(spec, IfMatch(request));
        }
        catch (ArgumentException e)
        {
            return RestErrors.BadRequest(e.Message.Split(" (Parameter", 2)[0]);
        }

        switch (result.Outcome)
        {
            case RegistryWriteOutcome.AlreadyExists:
                return RestErrors.Error(IotHubErrors.DeviceAlreadyExists, $"A device with ID '{id}' is already registered.");
            case RegistryWriteOutcome.PreconditionFailed:
                return RestErrors.Error(IotHubErrors.PreconditionFailed, "Precondition failed: the device's etag does not match If-Match.");
        }

        var device = hub.Registry.Find(id)!;
        if (!device.Identity.Enabled && device.IsConnected)
        {
            await hub.Mqtt.DisconnectAsync(id, DisconnectReason.DeviceRemoved).ConfigureAwait(false);
        }

        return Json(DeviceJson.Device(device, hub.C2dCount(device)));
    }

    public static async Task<IResult> DeleteAsync(HubServices hub, HttpRequest request, string id)
    {
        var (outcome, device) = hub.Registry.Remove(id, IfMatch(request));
        switch (outcome)
        {
            case RegistryWriteOutcome.NotFound:
                return RestErrors.DeviceNotFound(id);
            case RegistryWriteOutcome.PreconditionFailed:
                return RestErrors.Error(IotHubErrors.PreconditionFailed, "Precondition failed: the device's etag does not match If-Match.");
        }

        if (device!.IsConnected)
        {
            await hub.Mqtt.DisconnectAsync(device, DisconnectReason.DeviceRemoved).ConfigureAwait(false);
        }

        return Results.NoContent();
    }

    internal static string? IfMatch(HttpRequest request)
    {
        var value = request.Headers.IfMatch.ToString();
        return value.Length == 0 ? null : value;
    }

    internal static IResult Json(JsonNode node) => Results.Text(node.ToJsonString(), "application/json; charset=utf-8");

    internal static bool TryReadSpec(string id, JsonObject body, out DeviceSpec spec, out string error)
    {
        spec = new DeviceSpec(id);
        error = "";
        var bodyId = Text(body, "deviceId");
        if (bodyId is not null && !string.Equals(bodyId, id, StringComparison.Ordinal))
        {
            error = $"deviceId '{bodyId}' in the body does not match '{id}' in the path.";
            return false;
        }

        var status = Text(body, "status") ?? "enabled";
        if (status is not ("enabled" or "disabled"))
        {
            error = $"status '{status}' is not valid: expected 'enabled' or 'disabled'.";
            return false;
        }

        var auth = body["authentication"] as JsonObject;
        var typeName = auth is null ? null : Text(auth, "type");
        if (!DeviceIdentity.TryParseWireName(typeName, out var type))
        {
            error = $"authentication.type '{typeName}' is not valid: expected 'sas', 'selfSigned' or 'certificateAuthority'.";
            return false;
        }

        var keys = auth?["symmetricKey"] as JsonObject;
        var thumbprints = auth?["x509Thumbprint"] as JsonObject;
        var iotEdge = body["capabilities"] is JsonObject caps && caps["iotEdge"] is JsonValue edge && edge.TryGetValue<bool>(out var e) && e;
        spec = new DeviceSpec(
            id,
            status == "enabled",
            type,
            keys is null ? null : Text(keys, "primaryKey"),
            keys is null ? null : Text(keys, "secondaryKey"),
            thumbprints is null ? null : Text(thumbprints, "primaryThumbprint"),
            thumbprints is null ? null : Text(thumbprints, "secondaryThumbprint"),
            iotEdge,
            Text(body, "statusReason"));
        return true;
    }

    private static string? Text(JsonObject obj, string name) =>
        obj[name] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;
}
