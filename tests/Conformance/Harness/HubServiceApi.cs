using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using FleetSim.Protocol;

namespace FleetSim.Conformance.Tests.Harness;

/// <summary>
/// The hub's HTTPS service API as the tests use it to set up devices and to look at the hub's state
/// (registry, twins, /fleetsim/* extensions), trusting only the hub's CA and authenticating with a service SAS.
/// </summary>
public sealed class HubServiceApi : IDisposable
{
    public const string ApiVersion = "api-version=2021-04-12";

    private readonly HttpClient _http;
    private readonly ServiceConnectionString _service;
    private readonly X509Certificate2 _ca;

    public HubServiceApi(HubState state)
    {
        _service = ServiceConnectionString.Parse(state.ServiceConnectionString);
        _ca = X509CertificateLoader.LoadCertificateFromFile(state.CaCertificatePath);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = TrustHubCa },
        };
        _http = new HttpClient(handler)
        {
            BaseAddress = new Uri($"https://{state.HostName}:{state.HttpsPort}/"),
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    /// <summary>Registers a device (the hub generates its keys) and returns its primary key.</summary>
    public async Task<string> CreateDeviceAsync(string deviceId)
    {
        var body = new JsonObject
        {
            ["deviceId"] = deviceId,
            ["status"] = "enabled",
            ["authentication"] = new JsonObject
            {
                ["type"] = "sas",
                ["symmetricKey"] = new JsonObject { ["primaryKey"] = "", ["secondaryKey"] = "" },
            },
        };
        var device = await SendAsync(HttpMethod.Put, $"devices/{Uri.EscapeDataString(deviceId)}?{ApiVersion}", body);
        return device?["authentication"]?["symmetricKey"]?["primaryKey"]?.GetValue<string>()
               ?? throw new InvalidOperationException($"PUT /devices/{deviceId} returned no primaryKey");
    }

    public async Task<JsonObject> GetDeviceAsync(string deviceId) =>
        (await SendAsync(HttpMethod.Get, $"devices/{Uri.EscapeDataString(deviceId)}?{ApiVersion}"))!.AsObject();

    public async Task<JsonObject> GetTwinAsync(string deviceId) =>
        (await SendAsync(HttpMethod.Get, $"twins/{Uri.EscapeDataString(deviceId)}?{ApiVersion}"))!.AsObject();

    public async Task<JsonObject> GetStatsAsync() =>
        (await SendAsync(HttpMethod.Get, "fleetsim/stats"))!.AsObject();

    /// <summary>Any call; returns the parsed JSON body (null when empty); throws with status and body otherwise.</summary>
    public async Task<JsonNode?> SendAsync(HttpMethod method, string pathAndQuery, JsonNode? body = null)
    {
        var (status, text) = await SendRawAsync(method, pathAndQuery, body);
        if ((int)status >= 300)
        {
            throw new InvalidOperationException($"{method} /{pathAndQuery} returned {(int)status}: {Redaction.Redact(text)}");
        }

        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    public async Task<(HttpStatusCode Status, string Body)> SendRawAsync(HttpMethod method, string pathAndQuery, JsonNode? body = null)
    {
        using var request = new HttpRequestMessage(method, pathAndQuery);
        request.Headers.Authorization = new AuthenticationHeaderValue("SharedAccessSignature",
            StripScheme(_service.CreateSasToken(TimeSpan.FromMinutes(10), DateTimeOffset.UtcNow)));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        using var response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public void Dispose()
    {
        _http.Dispose();
        _ca.Dispose();
    }

    private static string StripScheme(string token) =>
        token.StartsWith("SharedAccessSignature ", StringComparison.Ordinal) ? token["SharedAccessSignature ".Length..] : token;

    /// <summary>Accepts the server certificate only if it chains to the hub's CA and matches the host name.</summary>
    private bool TrustHubCa(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.Add(_ca);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return custom.Build(new X509Certificate2(certificate));
    }
}
