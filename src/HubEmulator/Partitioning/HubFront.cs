using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Mqtt;
using FleetSim.HubEmulator.Rest;
using FleetSim.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace FleetSim.HubEmulator.Partitioning;

/// <summary>
/// The one service endpoint of a hub split over partition processes: it checks the service token like the hub,
/// then forwards each device-scoped request to the partition that owns the device (<see cref="HubPartitions.PartitionOf"/>)
/// and fans fleet-wide ones out to every partition, merging their answers (<see cref="FrontRoutes"/>, <see cref="JsonMerge"/>).
/// Path and query travel verbatim (so <c>?run=</c> and <c>?api-version=</c> reach the partitions); the front signs its
/// own requests with the shared key. Devices never come here: they connect straight to their partition.
/// </summary>
public sealed class HubFront : IAsyncDisposable
{
    private static readonly TimeSpan TokenTtl = TimeSpan.FromHours(1);

    /// <summary>Hop-by-hop and per-connection headers that are not forwarded either way.</summary>
    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Authorization", "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Upgrade", "Content-Length", "Expect",
        "Proxy-Connection", "Server", "Date",
    };

    private readonly WebApplication _web;
    private readonly HttpClient _http;
    private readonly HubFrontOptions _options;
    private readonly Lock _tokenLock = new();
    private string? _token;
    private DateTimeOffset _tokenRenewAt;

    private HubFront(WebApplication web, HttpClient http, HubFrontOptions options)
    {
        _web = web;
        _http = http;
        _options = options;
    }

    public int HttpsPort { get; private set; }

    public int PartitionCount => _options.Partitions.Count;

    public static async Task<HubFront> StartAsync(HubFrontOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Partitions.Count is < 1 or > PartitionAddresses.MaxPartitions)
        {
            throw new ArgumentException($"a partitioned hub has 1 to {PartitionAddresses.MaxPartitions} partitions (was {options.Partitions.Count})", nameof(options));
        }

        var ca = options.Certificates.Ca;
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = 64,
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, cert, _, errors) => IssuedBy(cert, errors, ca) },
        };
        // No client timeout: a direct method waits up to its own responseTimeoutInSeconds; the caller's abort cancels.
        var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };

        var hostNames = new HubHostNames(options.HostName);
        var authorization = new ServiceAuthorization(hostNames, options.ServiceKey, options.TimeProvider);
        Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions? listen = null;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(options.BindAddress, options.HttpsPort, l =>
            {
                listen = l;
                l.Protocols = HttpProtocols.Http1AndHttp2;
                l.UseHttps(https =>
                {
                    https.ServerCertificate = options.Certificates.Server;
                    https.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
                });
            });
        });
        var web = builder.Build();
        var front = new HubFront(web, http, options);
        web.Run(context => authorization.Check(context.Request) is { } denied ? denied.ExecuteAsync(context) : front.ServeAsync(context));
        try
        {
            await web.StartAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await web.DisposeAsync().ConfigureAwait(false);
            http.Dispose();
            throw;
        }

        var port = (listen?.EndPoint as IPEndPoint)?.Port ?? throw new InvalidOperationException("Kestrel did not report the bound port.");
        hostNames.AddPorts(port);
        front.HttpsPort = port;
        return front;
    }

    private async Task ServeAsync(HttpContext context)
    {
        var request = context.Request;
        var decision = _options.Routes.Resolve(request.Method, request.Path.Value ?? "");
        var body = await ReadBodyAsync(request).ConfigureAwait(false);
        var all = Enumerable.Range(0, PartitionCount).ToList();
        switch (decision.Kind)
        {
            case FrontRouteKind.Owner:
                await ForwardOneAsync(context, HubPartitions.PartitionOf(decision.DeviceId!, PartitionCount), body).ConfigureAwait(false);
                return;
            case FrontRouteKind.Fault when FaultDevice(body) is { } device:
                await ForwardOneAsync(context, HubPartitions.PartitionOf(device, PartitionCount), body).ConfigureAwait(false);
                return;
            case FrontRouteKind.SplitById:
                var split = FrontRoutes.Split(ParseOrNull(body), PartitionCount, out var error);
                if (split is null)
                {
                    await RestErrors.BadRequest(error!).ExecuteAsync(context).ConfigureAwait(false);
                    return;
                }

                await FanOutAsync(context, [.. split.Select(kv => (kv.Key, System.Text.Encoding.UTF8.GetBytes(kv.Value.ToJsonString())))]).ConfigureAwait(false);
                return;
            default:
                await FanOutAsync(context, [.. all.Select(p => (p, body))]).ConfigureAwait(false);
                return;
        }
    }

    private async Task ForwardOneAsync(HttpContext context, int partition, byte[] body)
    {
        using var response = await SendAsync(context, partition, body).ConfigureAwait(false);
        if (response is null)
        {
            await Unreachable(partition).ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        context.Response.StatusCode = (int)response.StatusCode;
        CopyHeaders(response, context.Response);
        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
    }

    private async Task FanOutAsync(HttpContext context, IReadOnlyList<(int Partition, byte[] Body)> requests)
    {
        if (requests.Count == 0)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        var responses = await Task.WhenAll(requests.Select(r => SendAsync(context, r.Partition, r.Body))).ConfigureAwait(false);
        try
        {
            for (var i = 0; i < responses.Length; i++)
            {
                if (responses[i] is null)
                {
                    await Unreachable(requests[i].Partition).ExecuteAsync(context).ConfigureAwait(false);
                    return;
                }
            }

            // One failing partition fails the request, with that partition's own answer.
            var failed = responses.FirstOrDefault(static r => !r!.IsSuccessStatusCode);
            if (failed is not null)
            {
                context.Response.StatusCode = (int)failed.StatusCode;
                CopyHeaders(failed, context.Response);
                await failed.Content.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
                return;
            }

            var texts = await Task.WhenAll(responses.Select(r => r!.Content.ReadAsStringAsync(context.RequestAborted))).ConfigureAwait(false);
            context.Response.StatusCode = (int)responses[0]!.StatusCode;
            if (texts.All(static t => t.Length == 0))
            {
                return;
            }

            JsonNode? merged;
            try
            {
                merged = JsonMerge.Merge([.. texts.Select(static t => t.Length == 0 ? null : JsonNode.Parse(t))]);
            }
            catch (JsonException e)
            {
                await RestErrors.Error(IotHubErrors.ServerError, "a partition answered with something other than JSON: " + e.Message).ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(merged?.ToJsonString() ?? "null", context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            foreach (var r in responses)
            {
                r?.Dispose();
            }
        }
    }

    /// <summary>The partition's answer, or null when it could not be reached.</summary>
    private async Task<HttpResponseMessage?> SendAsync(HttpContext context, int partition, byte[] body)
    {
        var incoming = context.Request;
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (incoming.Path + incoming.QueryString).ToString();
        using var request = new HttpRequestMessage(new HttpMethod(incoming.Method), new Uri(_options.Partitions[partition], target));
        if (body.Length > 0 || incoming.ContentLength is not null)
        {
            request.Content = new ByteArrayContent(body);
        }

        foreach (var (name, values) in incoming.Headers)
        {
            if (NotForwarded.Contains(name))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        request.Headers.TryAddWithoutValidation("Authorization", Token());
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, context.RequestAborted).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private IResult Unreachable(int partition) =>
        RestErrors.Error(IotHubErrors.ServiceUnavailable, $"hub partition {partition} ({_options.Partitions[partition].Authority}) is not reachable");

    private static void CopyHeaders(HttpResponseMessage from, HttpResponse to)
    {
        foreach (var (name, values) in from.Headers.Concat(from.Content.Headers))
        {
            if (!NotForwarded.Contains(name))
            {
                to.Headers[name] = values.ToArray();
            }
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted).ConfigureAwait(false);
        return buffer.ToArray();
    }

    private static JsonNode? ParseOrNull(byte[] body)
    {
        try
        {
            return body.Length == 0 ? null : JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The device a fault request names (<c>{"deviceId": …}</c>), if any.</summary>
    private static string? FaultDevice(byte[] body) =>
        ParseOrNull(body) is JsonObject o && o["deviceId"] is JsonValue v && v.TryGetValue<string>(out var id) && id.Length > 0 ? id : null;

    private string Token()
    {
        var now = _options.TimeProvider.GetUtcNow();
        lock (_tokenLock)
        {
            if (_token is null || now >= _tokenRenewAt)
            {
                _token = SasToken.Create(_options.HostName, _options.ServiceKey, now + TokenTtl, ConnectAuthenticator.OwnerPolicy);
                _tokenRenewAt = now + TokenTtl - TimeSpan.FromMinutes(5);
            }

            return _token;
        }
    }

    private static bool IssuedBy(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 ca)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    public async ValueTask DisposeAsync()
    {
        await _web.StopAsync().ConfigureAwait(false);
        await _web.DisposeAsync().ConfigureAwait(false);
        _http.Dispose();
    }
}
