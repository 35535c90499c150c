using System.Globalization;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using FleetSim.HubEmulator.Certificates;
using FleetSim.HubEmulator.Registry;
using FleetSim.HubEmulator.Rest;
using FleetSim.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace FleetSim.HubEmulator.FileUpload;

/// <summary>
/// File upload endpoints. Device-authorized (device SAS in <c>Authorization</c>, or an X.509 device's TLS client certificate): <c>POST /devices/{id}/files</c>,
/// <c>POST /devices/{id}/files/notifications</c> and the Node SDK's <c>…/notifications/{correlationId}</c>.
/// Blob store (SAS query from the first call): <c>PUT /fleetsim-uploads/{blob}</c> (whole blob), with
/// <c>?comp=block&amp;blockid=</c> and <c>?comp=blocklist</c> (staged upload, as the storage SDKs do for streams), and GET.
/// </summary>
internal static class FileUploadEndpoints
{
    public static void Map(IEndpointRouteBuilder app, HubServices hub, DeviceCertificateCheck certificates, FileUploads uploads, Func<string> blobHost)
    {
        app.MapPost("/devices/{id}/files", async (HttpRequest request, string id) =>
        {
            if (Authorize(hub, certificates, request, id) is { } denied)
            {
                return denied;
            }

            var body = await JsonBody.ObjectOrNullAsync(request).ConfigureAwait(false);
            var blobName = body?["blobName"] is JsonValue v && v.TryGetValue<string>(out var name) ? name : null;
            if (string.IsNullOrEmpty(blobName) || uploads.SafePathFor($"{id}/{blobName}") is null)
            {
                return RestErrors.BadRequest("blobName is required and must be a relative name without '..'.");
            }

            var (correlationId, fullName, sas) = uploads.Start(id, blobName);
            return DeviceEndpoints.Json(new JsonObject
            {
                ["correlationId"] = correlationId,
                ["hostName"] = blobHost(),
                ["containerName"] = FileUploads.Container,
                ["blobName"] = fullName,
                ["sasToken"] = sas,
            });
        });
        app.MapPost("/devices/{id}/files/notifications", (HttpRequest request, string id) => NotifyAsync(hub, certificates, uploads, request, id, null));
        app.MapPost("/devices/{id}/files/notifications/{correlationId}", (HttpRequest request, string id, string correlationId) =>
            NotifyAsync(hub, certificates, uploads, request, id, correlationId));
        app.MapPut($"/{FileUploads.Container}/{{**blob}}", (HttpRequest request, string blob) => PutBlobAsync(uploads, request, blob));
        app.MapGet($"/{FileUploads.Container}/{{**blob}}", (HttpRequest request, string blob) =>
            !uploads.IsBlobAccessAllowed(blob, request.Query["se"], request.Query["sig"]) ? Forbidden()
            : uploads.SafePathFor(blob) is { } path && File.Exists(path) ? Results.File(path, "application/octet-stream")
            : Results.NotFound());
    }

    private static async Task<IResult> NotifyAsync(
        HubServices hub, DeviceCertificateCheck certificates, FileUploads uploads, HttpRequest request, string id, string? correlationId)
    {
        if (Authorize(hub, certificates, request, id) is { } denied)
        {
            return denied;
        }

        var body = await JsonBody.ObjectOrNullAsync(request).ConfigureAwait(false);
        correlationId ??= body?["correlationId"] is JsonValue c && c.TryGetValue<string>(out var cid) ? cid : null;
        if (body is null || correlationId is null || body["isSuccess"] is not JsonValue success || !success.TryGetValue<bool>(out var isSuccess))
        {
            return RestErrors.BadRequest("The notification needs correlationId and isSuccess.");
        }

        int? status = body["statusCode"] is JsonValue s && s.TryGetValue<int>(out var code) ? code : null;
        var description = body["statusDescription"] is JsonValue d && d.TryGetValue<string>(out var text) ? text : null;
        return uploads.Notify(id, correlationId, isSuccess, status, description)
            ? Results.NoContent()
            : RestErrors.BadRequest($"Unknown correlationId '{correlationId}' for device {id}.");
    }

    private static async Task<IResult> PutBlobAsync(FileUploads uploads, HttpRequest request, string blob)
    {
        if (!uploads.IsBlobAccessAllowed(blob, request.Query["se"], request.Query["sig"]))
        {
            return Forbidden();
        }

        var path = uploads.SafePathFor(blob);
        if (path is null)
        {
            return Results.BadRequest();
        }

        // Scenarios allow files up to 256 MiB; Kestrel's default body limit is 30 MB. The body is streamed to disk.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = FileUploads.MaxBlobBytes;
        }

        var aborted = request.HttpContext.RequestAborted;
        try
        {
            switch (request.Query["comp"].ToString())
            {
                case "block":
                    await uploads.StageAsync(blob, request.Query["blockid"].ToString(), request.Body, aborted).ConfigureAwait(false);
                    return Created(request, blob);
                case "blocklist":
                    var list = await XDocument.LoadAsync(request.Body, LoadOptions.None, aborted).ConfigureAwait(false);
                    var ids = list.Root?.Elements().Select(e => e.Value).ToList() ?? [];
                    return await uploads.CommitAsync(blob, path, ids, aborted).ConfigureAwait(false) ? Created(request, blob) : Results.BadRequest();
                default:
                    await uploads.StoreAsync(blob, path, request.Body, aborted).ConfigureAwait(false);
                    return Created(request, blob);
            }
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or System.Xml.XmlException)
        {
            return Results.StatusCode(e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } or InvalidDataException
                ? StatusCodes.Status413PayloadTooLarge
                : StatusCodes.Status400BadRequest);
        }
    }

    private static IResult Created(HttpRequest request, string blob)
    {
        var headers = request.HttpContext.Response.Headers;
        headers.ETag = "\"0x" + DateTime.UtcNow.Ticks.ToString("X", CultureInfo.InvariantCulture) + "\"";
        headers.LastModified = DateTime.UtcNow.ToString("R", CultureInfo.InvariantCulture);
        headers["x-ms-request-id"] = Guid.NewGuid().ToString();
        headers["x-ms-version"] = "2018-03-28";
        headers["x-ms-request-server-encrypted"] = "false";
        return Results.StatusCode(StatusCodes.Status201Created);
    }

    private static IResult Forbidden() => Results.StatusCode(StatusCodes.Status403Forbidden);

    /// <summary>
    /// Device SAS in <c>Authorization</c> (resource covers devices/{id}, signed with one of its keys, not expired), or,
    /// without that header, the TLS client certificate of an X.509 device judged as MQTT CONNECT judges it (the SDKs
    /// authenticate X.509 devices' HTTPS that way). A disabled device is refused like an unknown credential.
    /// </summary>
    private static IResult? Authorize(HubServices hub, DeviceCertificateCheck certificates, HttpRequest request, string id)
    {
        // Credentials first: an unknown device id is refused exactly like a bad credential, so a caller without a
        // device's key cannot learn which ids exist (a 404 here would tell it).
        var device = hub.Registry.Find(id);
        var authorization = request.Headers.Authorization.ToString();
        if (device is null)
        {
            return authorization.Length == 0 ? NoCredential() : WrongCredential();
        }

        var identity = device.Identity;
        if (authorization.Length == 0)
        {
            return identity.AuthenticationType != DeviceAuthenticationType.Sas
                   && identity.Enabled
                   && request.HttpContext.Connection.ClientCertificate is { } certificate
                   && certificates.Authenticates(identity, certificate)
                ? null
                : NoCredential();
        }

        if (identity.AuthenticationType == DeviceAuthenticationType.Sas
            && identity.Enabled
            && SasToken.TryParse(authorization, out var token, out _)
            && !token.IsExpired(hub.Time.GetUtcNow())
            && hub.HostNames.Covers(token, "devices/" + id)
            && token.KeyName is null
            && (token.IsSignatureValid(identity.PrimaryKey!) || token.IsSignatureValid(identity.SecondaryKey!)))
        {
            return null;
        }

        return WrongCredential();
    }

    private static IResult NoCredential() => RestErrors.Error(IotHubErrors.IotHubUnauthorizedAccess,
        "Unauthorized: a device SAS token, or the TLS client certificate of this X.509 device, is required.");

    private static IResult WrongCredential() =>
        RestErrors.Error(IotHubErrors.IotHubUnauthorizedAccess, "Unauthorized: a device SAS token for this device is required.");
}
