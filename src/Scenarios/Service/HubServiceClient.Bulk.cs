using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FleetSim.Protocol;

namespace FleetSim.Scenarios.Service;

/// <summary>One device's failure in a bulk registry call: its id, the hub's error name (DeviceAlreadyExists…) and text.</summary>
public sealed record BulkDeviceError(string DeviceId, string ErrorCode, string ErrorStatus);

/// <summary>The registry's fleet-level calls: bulk create/delete (<c>POST /devices</c>), device query, statistics; 429s are waited out.</summary>
public sealed partial class HubServiceClient
{
    /// <summary>The most device operations one bulk registry call takes.</summary>
    public const int MaxBulkDevices = 100;

    private const int MaxThrottledRetries = 12;
    private static readonly TimeSpan MaxThrottleWait = TimeSpan.FromSeconds(60);
    private long _throttled;

    /// <summary>Calls the hub answered 429 (and that were retried after its Retry-After).</summary>
    public long ThrottledResponses => Interlocked.Read(ref _throttled);

    /// <summary>Paces every identity registry call (bulk, get) to the tier's throttle; null = not paced (429s are still waited out).</summary>
    public RegistryPacer? RegistryPacing { get; set; }

    /// <summary>
    /// <c>POST /devices</c> with 1 to 100 ExportImportDevice operations (<c>{"id", "importMode", ...}</c>); returns the
    /// per-device errors (empty when every operation succeeded).
    /// </summary>
    public async Task<IReadOnlyList<BulkDeviceError>> BulkAsync(IReadOnlyList<JsonObject> operations, CancellationToken ct)
    {
        if (operations.Count is 0 or > MaxBulkDevices)
            throw new ArgumentException($"a bulk registry call takes 1 to {MaxBulkDevices} operations, not {operations.Count}", nameof(operations));
        var body = new JsonArray([.. operations.Select(o => (JsonNode)o.DeepClone())]).ToJsonString();
        using var response = await SendThrottledAsync(() => JsonRequest(HttpMethod.Post, "devices", body), ct, HttpStatusCode.BadRequest, registry: true);
        var text = await response.Content.ReadAsStringAsync(ct);
        JsonObject? result;
        try
        {
            result = JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
            result = null;
        }

        if (result?["errors"] is not JsonArray errors)
        {
            // A 400 without a BulkRegistryOperationResult is a refused request, not per-device errors.
            var code = response.Headers.TryGetValues("iothub-errorcode", out var values) ? values.FirstOrDefault() ?? "" : "";
            throw new HubServiceException(response.StatusCode, code, Redaction.Redact(text));
        }

        return [.. errors.OfType<JsonObject>().Select(e => new BulkDeviceError(
            e["deviceId"]?.GetValue<string>() ?? "",
            e["errorCode"]?.ToString() ?? "",
            Redaction.Redact(e["errorStatus"]?.ToString() ?? "")))];
    }

    /// <summary>The device as the registry has it (keys, thumbprints), or null; paced and throttle-retried like every registry call.</summary>
    public async Task<JsonObject?> GetDeviceJsonAsync(string deviceId, CancellationToken ct)
    {
        using var response = await SendThrottledAsync(() => JsonRequest(HttpMethod.Get, $"devices/{Uri.EscapeDataString(deviceId)}", null), ct,
            HttpStatusCode.NotFound, registry: true);
        return response.StatusCode == HttpStatusCode.NotFound ? null : await ReadJsonAsync(response, ct);
    }

    /// <summary>
    /// Runs a device query (<c>POST /devices/query</c>, SQL such as <c>SELECT * FROM devices WHERE tags.fleetsim.run = 'x'</c>)
    /// and returns every result, following <c>x-ms-continuation</c> page by page.
    /// </summary>
    public async Task<IReadOnlyList<JsonObject>> QueryAsync(string sql, CancellationToken ct, int pageSize = 100)
    {
        var results = new List<JsonObject>();
        string? continuation = null;
        do
        {
            var token = continuation;
            using var response = await SendThrottledAsync(() =>
            {
                var request = JsonRequest(HttpMethod.Post, "devices/query", new JsonObject { ["query"] = sql }.ToJsonString());
                request.Headers.TryAddWithoutValidation("x-ms-max-item-count", pageSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (token is not null)
                    request.Headers.TryAddWithoutValidation("x-ms-continuation", token);
                return request;
            }, ct, null, registry: false);
            var page = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct)) as JsonArray
                       ?? throw new HubServiceException(response.StatusCode, "InvalidResponse", "a query answer must be a JSON array");
            results.AddRange(page.OfType<JsonObject>());
            continuation = response.Headers.TryGetValues("x-ms-continuation", out var values) ? values.FirstOrDefault() : null;
        }
        while (!string.IsNullOrEmpty(continuation));
        return results;
    }

    private HttpRequestMessage JsonRequest(HttpMethod method, string path, string? json)
    {
        var request = new HttpRequestMessage(method, WithApiVersion(path));
        if (json is not null)
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return request;
    }

    /// <summary>
    /// Sends a request made fresh for every attempt; a 429 is retried after the hub's Retry-After (else an exponential
    /// wait from 1 s, at most 60 s, with jitter), up to 12 times.
    /// </summary>
    private async Task<HttpResponseMessage> SendThrottledAsync(Func<HttpRequestMessage> make, CancellationToken ct, HttpStatusCode? allowStatus, bool registry)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var turn = registry && RegistryPacing is { } pacer ? await pacer.AcquireAsync(ct) : null;
            using var request = make();
            try
            {
                return await SendRequestAsync(request, ct, allowStatus);
            }
            catch (HubServiceException e) when (e.Status == (HttpStatusCode)429 && attempt < MaxThrottledRetries)
            {
                Interlocked.Increment(ref _throttled);
                turn?.Dispose(); // others may go while this call waits out its Retry-After
                var wait = e.RetryAfter ?? TimeSpan.FromSeconds(Math.Min(MaxThrottleWait.TotalSeconds, Math.Pow(2, attempt)));
                wait += TimeSpan.FromMilliseconds(Random.Shared.Next(0, 250)); // a fleet of callers must not retry in step
                await Task.Delay(wait < MaxThrottleWait ? wait : MaxThrottleWait, _time, ct);
            }
        }
    }
}
