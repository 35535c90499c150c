using System.Net.Http.Json;
using System.Text.Json.Serialization;

namespace FleetSim.DeviceActors.Files;

/// <summary>
/// One file upload as the SDKs do it (PROTOCOL.md section 8): ask the hub for storage (POST /devices/{id}/files),
/// PUT the blob to the SAS URL it returns, then report the outcome (POST /devices/{id}/files/notifications).
/// <paramref name="authorization"/> is the device's SAS token, or null for an X.509 device whose client
/// authenticates by its TLS client certificate. Returns null on success, else a short failure label for metrics.
/// </summary>
internal static class FileUploader
{
    private const string ApiVersion = "?api-version=2021-04-12";

    public static async Task<string?> UploadAsync(HttpClient http, Uri hub, string deviceId, string? authorization, string blobName,
        ReadOnlyMemory<byte> body)
    {
        var device = Uri.EscapeDataString(deviceId);
        StorageInfo? storage;
        using (var request = new HttpRequestMessage(HttpMethod.Post, new Uri(hub, $"devices/{device}/files{ApiVersion}")))
        {
            if (authorization is not null)
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            request.Content = JsonContent.Create(new { blobName });
            using var response = await http.SendAsync(request).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                return "storageInfo" + (int)response.StatusCode;
            storage = await response.Content.ReadFromJsonAsync<StorageInfo>().ConfigureAwait(false);
        }

        if (storage is not { CorrelationId: not null, HostName: not null, ContainerName: not null, BlobName: not null })
            return "storageInfoMalformed";

        int blobStatus;
        using (var put = new HttpRequestMessage(HttpMethod.Put,
                   new Uri($"https://{storage.HostName}/{storage.ContainerName}/{storage.BlobName}{storage.SasToken}")))
        {
            put.Headers.TryAddWithoutValidation("x-ms-blob-type", "BlockBlob");
            put.Content = new ReadOnlyMemoryContent(body);
            using var response = await http.SendAsync(put).ConfigureAwait(false);
            blobStatus = (int)response.StatusCode;
        }

        var uploaded = blobStatus is >= 200 and < 300;
        using (var notify = new HttpRequestMessage(HttpMethod.Post, new Uri(hub, $"devices/{device}/files/notifications{ApiVersion}")))
        {
            if (authorization is not null)
                notify.Headers.TryAddWithoutValidation("Authorization", authorization);
            notify.Content = JsonContent.Create(new
            {
                correlationId = storage.CorrelationId,
                isSuccess = uploaded,
                statusCode = blobStatus,
                statusDescription = uploaded ? "uploaded" : "blob upload failed",
            });
            using var response = await http.SendAsync(notify).ConfigureAwait(false);
            if (!uploaded)
                return "blob" + blobStatus;
            return response.IsSuccessStatusCode ? null : "notification" + (int)response.StatusCode;
        }
    }

    private sealed record StorageInfo(
        [property: JsonPropertyName("correlationId")] string? CorrelationId,
        [property: JsonPropertyName("hostName")] string? HostName,
        [property: JsonPropertyName("containerName")] string? ContainerName,
        [property: JsonPropertyName("blobName")] string? BlobName,
        [property: JsonPropertyName("sasToken")] string? SasToken);
}
