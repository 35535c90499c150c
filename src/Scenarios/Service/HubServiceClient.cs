using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FleetSim.Protocol;

namespace FleetSim.Scenarios.Service;

/// <summary>Where the hub's HTTPS service API is: by default <c>https://{HostName}</c> (port 443), or an explicit address.</summary>
public sealed record HubEndpoint(Uri BaseAddress, X509Certificate2? TrustedCa = null)
{
    public static HubEndpoint ForHost(string hostName, int port = 443, X509Certificate2? trustedCa = null) =>
        new(new UriBuilder("https", hostName, port).Uri, trustedCa);
}

/// <summary>A device identity as the registry returns it; the key is a secret (never log it).</summary>
public sealed record RegisteredDevice(string DeviceId, string? PrimaryKey, string Status);

/// <summary>A failed service call: HTTP status, the hub's error name (iothub-errorcode) and its message, redacted.</summary>
public sealed class HubServiceException(HttpStatusCode status, string errorCode, string message, TimeSpan? retryAfter = null)
    : Exception($"{(int)status} {errorCode}: {message}")
{
    public HttpStatusCode Status { get; } = status;
    public string ErrorCode { get; } = errorCode;

    /// <summary>The hub's Retry-After on a 429, when it sent one.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>
/// The IoT Hub service REST API (PROTOCOL.md section 8), the same code for the embedded emulator and a real hub:
/// registry, twins, direct methods. Authenticated with a service SAS token minted from the hub connection string
/// and renewed before it expires.
/// </summary>
public sealed partial class HubServiceClient : IDisposable
{
    public const string ApiVersion = "2021-04-12";
    private static readonly TimeSpan TokenTtl = TimeSpan.FromHours(1);
    private static readonly TimeSpan TokenRenewalMargin = TimeSpan.FromMinutes(5);

    private readonly ServiceConnectionString _connection;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly Lock _tokenLock = new();
    private string? _token;
    private DateTimeOffset _tokenExpiry;

    public HubServiceClient(ServiceConnectionString connection, HubEndpoint endpoint, TimeProvider? time = null, TimeSpan? timeout = null)
    {
        _connection = connection;
        _time = time ?? TimeProvider.System;
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = 64,
        };
        if (endpoint.TrustedCa is { } ca)
            handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, cert, _, errors) => TrustChain.Validate(cert, errors, ca) };
        _http = new HttpClient(handler) { BaseAddress = endpoint.BaseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(100) };
    }

    /// <summary>
    /// Creates the device with hub-generated keys (or the given primary key; or, given a certificate thumbprint, as a self-signed X.509 device), or
    /// returns the existing one (a second run reuses identities).
    /// </summary>
    public async Task<RegisteredDevice> CreateOrGetDeviceAsync(string deviceId, CancellationToken ct, string? x509Thumbprint = null, string? primaryKey = null)
    {
        var authentication = x509Thumbprint is null
            ? new JsonObject { ["type"] = "sas", ["symmetricKey"] = new JsonObject { ["primaryKey"] = primaryKey, ["secondaryKey"] = null } }
            : new JsonObject { ["type"] = "selfSigned", ["x509Thumbprint"] = new JsonObject { ["primaryThumbprint"] = x509Thumbprint, ["secondaryThumbprint"] = x509Thumbprint } };
        var body = new JsonObject
        {
            ["deviceId"] = deviceId,
            ["status"] = "enabled",
            ["authentication"] = authentication,
            ["capabilities"] = new JsonObject { ["iotEdge"] = false },
        };
        using var response = await SendAsync(HttpMethod.Put, $"devices/{Uri.EscapeDataString(deviceId)}", body, ct, allowStatus: HttpStatusCode.Conflict);
        if (response.StatusCode == HttpStatusCode.Conflict)
            return await GetDeviceAsync(deviceId, ct) ?? throw new HubServiceException(HttpStatusCode.Conflict, "DeviceAlreadyExists", deviceId);
        return ReadDevice(await ReadJsonAsync(response, ct));
    }

    public async Task<RegisteredDevice?> GetDeviceAsync(string deviceId, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Get, $"devices/{Uri.EscapeDataString(deviceId)}", null, ct, allowStatus: HttpStatusCode.NotFound);
        return response.StatusCode == HttpStatusCode.NotFound ? null : ReadDevice(await ReadJsonAsync(response, ct));
    }

    public async Task<JsonObject> GetTwinAsync(string deviceId, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Get, $"twins/{Uri.EscapeDataString(deviceId)}", null, ct);
        return await ReadJsonAsync(response, ct);
    }

    /// <summary>Merges <paramref name="desired"/> into the twin's desired properties (null deletes); returns the new twin.</summary>
    public async Task<JsonObject> PatchDesiredAsync(string deviceId, JsonObject desired, CancellationToken ct)
    {
        var body = new JsonObject { ["properties"] = new JsonObject { ["desired"] = desired } };
        using var response = await SendAsync(HttpMethod.Patch, $"twins/{Uri.EscapeDataString(deviceId)}", body, ct);
        return await ReadJsonAsync(response, ct);
    }

    /// <summary>Invokes a direct method; the device's status and payload come back, hub errors (404103, 504) throw.</summary>
    public async Task<(int Status, JsonNode? Payload)> InvokeMethodAsync(string deviceId, string methodName, JsonNode? payload,
        int responseTimeoutSeconds, int connectTimeoutSeconds, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["methodName"] = methodName,
            ["payload"] = payload?.DeepClone(),
            ["responseTimeoutInSeconds"] = responseTimeoutSeconds,
            ["connectTimeoutInSeconds"] = connectTimeoutSeconds,
        };
        using var response = await SendAsync(HttpMethod.Post, $"twins/{Uri.EscapeDataString(deviceId)}/methods", body, ct);
        var result = await ReadJsonAsync(response, ct);
        return (result["status"]?.GetValue<int>() ?? 0, result["payload"]?.DeepClone());
    }

    /// <summary>
    /// Sends a cloud-to-device message through the emulator's HTTPS extension endpoint
    /// <c>POST /devices/{id}/messages/deviceBound</c> (a real hub takes C2D over AMQP only). System properties go in
    /// <c>iothub-messageid</c>, <c>iothub-correlationid</c>, <c>iothub-ack</c>…, application properties in
    /// <c>iothub-app-{name}</c> headers, as IoT Hub's HTTP conventions have it.
    /// </summary>
    public async Task SendC2dAsync(string deviceId, byte[] body, IReadOnlyList<KeyValuePair<string, string?>> properties, CancellationToken ct)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Post, WithApiVersion($"devices/{Uri.EscapeDataString(deviceId)}/messages/deviceBound")) { Content = content };
        request.Headers.TryAddWithoutValidation("iothub-messageid", Guid.NewGuid().ToString());
        foreach (var (name, value) in properties)
        {
            var header = name switch
            {
                SystemProperties.MessageId => "iothub-messageid",
                SystemProperties.CorrelationId => "iothub-correlationid",
                SystemProperties.UserId => "iothub-userid",
                SystemProperties.ExpiryTime => "iothub-expiry",
                SystemProperties.Ack => "iothub-ack",
                SystemProperties.ContentType => "iothub-contenttype",
                SystemProperties.ContentEncoding => "iothub-contentencoding",
                _ => "iothub-app-" + name,
            };
            request.Headers.Remove(header);
            request.Headers.TryAddWithoutValidation(header, value ?? "");
        }

        using var response = await SendRequestAsync(request, ct, null);
    }

    /// <summary>GET on an arbitrary service path (emulator extensions such as <c>fleetsim/stats</c>).</summary>
    public async Task<JsonObject> GetJsonAsync(string path, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Get, path, null, ct);
        return await ReadJsonAsync(response, ct);
    }

    /// <summary>POST on an arbitrary service path (emulator extensions such as C2D send and faults).</summary>
    public async Task PostAsync(string path, HttpContent content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, WithApiVersion(path)) { Content = content };
        using var response = await SendRequestAsync(request, ct, null);
    }

    /// <summary>POST of a JSON body on an arbitrary service path; the answer's JSON (null when it has no body, e.g. 204).</summary>
    public async Task<JsonNode?> PostJsonAsync(string path, JsonNode body, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Post, path, body, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            return text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            throw new HubServiceException(response.StatusCode, "InvalidResponse", e.Message);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken ct, HttpStatusCode? allowStatus = null)
    {
        using var request = new HttpRequestMessage(method, WithApiVersion(path));
        if (body is not null)
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        return await SendRequestAsync(request, ct, allowStatus);
    }

    private async Task<HttpResponseMessage> SendRequestAsync(HttpRequestMessage request, CancellationToken ct, HttpStatusCode? allowStatus)
    {
        request.Headers.TryAddWithoutValidation("Authorization", CurrentToken());
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var response = await _http.SendAsync(request, ct);
        if (response.IsSuccessStatusCode || response.StatusCode == allowStatus)
            return response;
        using (response)
        {
            var code = response.Headers.TryGetValues("iothub-errorcode", out var values) ? values.FirstOrDefault() ?? "" : "";
            var text = await response.Content.ReadAsStringAsync(ct);
            var retryAfter = response.Headers.RetryAfter is { } r ? r.Delta ?? (r.Date is { } at ? at - _time.GetUtcNow() : null) : null;
            throw new HubServiceException(response.StatusCode, code, Redaction.Redact(text), retryAfter);
        }
    }

    private string CurrentToken()
    {
        var now = _time.GetUtcNow();
        lock (_tokenLock)
        {
            if (_token is null || now >= _tokenExpiry - TokenRenewalMargin)
            {
                _token = _connection.CreateSasToken(TokenTtl, now);
                _tokenExpiry = now + TokenTtl;
            }

            return _token;
        }
    }

    private static string WithApiVersion(string path) =>
        path + (path.Contains('?') ? "&" : "?") + "api-version=" + ApiVersion;

    private static async Task<JsonObject> ReadJsonAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new HubServiceException(response.StatusCode, "InvalidResponse", "expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new HubServiceException(response.StatusCode, "InvalidResponse", e.Message);
        }
    }

    private static RegisteredDevice ReadDevice(JsonObject json) => new(
        json["deviceId"]?.GetValue<string>() ?? "",
        json["authentication"]?["symmetricKey"]?["primaryKey"]?.GetValue<string>(),
        json["status"]?.GetValue<string>() ?? "enabled");

    public void Dispose() => _http.Dispose();
}
