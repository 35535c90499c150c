using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Mqtt;
using FleetSim.HubEmulator.Registry;
using FleetSim.Protocol;
using Microsoft.AspNetCore.Http;

namespace FleetSim.HubEmulator.Rest;

/// <summary>
/// The registry's bulk API, <c>POST /devices</c> (REST "Bulk Registry - Update Registry"; azure-iothub
/// <c>Registry.addDevices/updateDevices/removeDevices</c>): a JSON array of 1 to 100 ExportImportDevice operations,
/// each <c>{"id", "importMode", "status", "authentication", "eTag", "tags", ...}</c>, a device at most once. Each
/// operation succeeds or fails on its own; the answer is a BulkRegistryOperationResult
/// <c>{"isSuccessful", "errors": [{"deviceId", "errorCode", "errorStatus"}], "warnings": []}</c>, 200 when every
/// operation succeeded and 400 otherwise. The whole call is one identity registry operation for the throttle.
/// Every operation names its device, so a partitioned hub can split a call by owner and merge the answers.
/// </summary>
internal static class BulkEndpoints
{
    public const int MaxDevicesPerCall = 100;

    public static async Task<IResult> PostAsync(HubServices hub, HttpRequest request)
    {
        var read = await JsonBody.ReadAsync<JsonArray>(request, "a list of device operations (ExportImportDevice objects)").ConfigureAwait(false);
        if (read.Value is not { } operations)
        {
            return read.Error!;
        }

        if (operations.Count is 0 or > MaxDevicesPerCall)
        {
            return RestErrors.BadRequest($"The request has {operations.Count} device operations: a bulk registry call takes 1 to {MaxDevicesPerCall}.");
        }

        var errors = new JsonArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in operations)
        {
            if (node is not JsonObject operation || Text(operation, "id") is not { } id)
            {
                errors.Add(Error("", "ArgumentNull", "Every device operation needs an id."));
                continue;
            }

            if (!seen.Add(id))
            {
                errors.Add(Error(id, "DeviceDefinedMultipleTimes", $"Device {id} appears more than once in the request."));
                continue;
            }

            if (await ApplyAsync(hub, id, operation).ConfigureAwait(false) is { } error)
            {
                errors.Add(error);
            }
        }

        var result = new JsonObject
        {
            ["isSuccessful"] = errors.Count == 0,
            ["errors"] = errors,
            ["warnings"] = new JsonArray(),
        };
        return Results.Text(result.ToJsonString(), "application/json; charset=utf-8", statusCode: errors.Count == 0 ? 200 : 400);
    }

    /// <summary>Applies one operation; null on success, else the error entry for the answer.</summary>
    private static async Task<JsonObject?> ApplyAsync(HubServices hub, string id, JsonObject operation)
    {
        var mode = (Text(operation, "importMode") ?? "createOrUpdate").ToUpperInvariant();
        var etag = Text(operation, "eTag");
        switch (mode)
        {
            case "DELETE" or "DELETEIFMATCHETAG":
                var (removed, device) = hub.Registry.Remove(id, mode == "DELETE" ? "*" : etag ?? "");
                switch (removed)
                {
                    case RegistryWriteOutcome.NotFound:
                        return Error(id, IotHubErrors.DeviceNotFound.Name, $"Device {id} not registered");
                    case RegistryWriteOutcome.PreconditionFailed:
                        return Error(id, IotHubErrors.PreconditionFailed.Name, "The device's etag does not match eTag.");
                }

                if (device!.IsConnected)
                {
                    // Not awaited: the identity is gone already, and closing up to 100 connections one after another
                    // (some of them in the middle of their own DISCONNECT) must not hold the call's answer back.
                    _ = DisconnectQuietlyAsync(hub, device);
                }

                return null;
            case "CREATE" or "UPDATE" or "CREATEORUPDATE" or "UPDATEIFMATCHETAG" or "CREATEORUPDATEIFMATCHETAG":
                if (!DeviceEndpoints.TryReadSpec(id, operation, out var spec, out var specError))
                {
                    return Error(id, IotHubErrors.ArgumentInvalid.Name, specError);
                }

                (RegistryWriteOutcome Outcome, DeviceIdentity? Identity) written;
                try
                {
                    written = hub.Registry.Put(spec, mode switch
                    {
                        "CREATE" => null,
                        "UPDATEIFMATCHETAG" or "CREATEORUPDATEIFMATCHETAG" => etag ?? "",
                        _ => "*",
                    });
                }
                catch (ArgumentException e)
                {
                    return Error(id, IotHubErrors.ArgumentInvalid.Name, e.Message.Split(" (Parameter", 2)[0]);
                }

                switch (written.Outcome)
                {
                    case RegistryWriteOutcome.AlreadyExists:
                        return Error(id, IotHubErrors.DeviceAlreadyExists.Name, $"A device with ID '{id}' is already registered.");
                    case RegistryWriteOutcome.PreconditionFailed:
                        return Error(id, IotHubErrors.PreconditionFailed.Name, "The device's etag does not match eTag.");
                }

                var registered = hub.Registry.Find(id)!;
                if (operation["tags"] is JsonObject tags)
                {
                    var update = await hub.Twins.UpdateAsync(registered, new JsonObject { ["tags"] = tags.DeepClone() }, replace: false, ifMatch: null).ConfigureAwait(false);
                    if (!update.Ok)
                    {
                        return Error(id, IotHubErrors.ArgumentInvalid.Name, "tags: " + update.Error);
                    }
                }

                if (!registered.Identity.Enabled && registered.IsConnected)
                {
                    await hub.Mqtt.DisconnectAsync(id, DisconnectReason.DeviceRemoved).ConfigureAwait(false);
                }

                return null;
            default:
                return Error(id, IotHubErrors.ArgumentInvalid.Name,
                    $"importMode '{Text(operation, "importMode")}' is not valid: expected create, createOrUpdate, update, updateIfMatchETag, delete or deleteIfMatchETag.");
        }
    }

    private static async Task DisconnectQuietlyAsync(HubServices hub, RegisteredDevice device)
    {
        try
        {
            await hub.Mqtt.DisconnectAsync(device, DisconnectReason.DeviceRemoved).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            // the connection ended by itself meanwhile, or the hub is stopping
        }
    }

    private static JsonObject Error(string deviceId, string code, string status) =>
        new() { ["deviceId"] = deviceId, ["errorCode"] = code, ["errorStatus"] = status };

    private static string? Text(JsonObject obj, string name) =>
        obj[name] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;
}
