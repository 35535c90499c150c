using FleetSim.HubEmulator.Mqtt;
using FleetSim.Protocol;
using Microsoft.AspNetCore.Http;

namespace FleetSim.HubEmulator.Rest;

/// <summary>
/// Service API authorization (PROTOCOL.md section 8): <c>Authorization: SharedAccessSignature sr=…&amp;sig=…&amp;se=…&amp;skn=iothubowner</c>,
/// signed with the iothubowner key, not expired, its resource a segment prefix of <c>{host}/{request path}</c>.
/// The last accepted header is remembered so a client reusing one token (the usual case) costs one string compare.
/// </summary>
internal sealed class ServiceAuthorization
{
    private readonly HubHostNames _hostNames;
    private readonly string _key;
    private readonly TimeProvider _time;
    private AcceptedToken? _last;

    public ServiceAuthorization(HubHostNames hostNames, string key, TimeProvider time)
    {
        _hostNames = hostNames;
        _key = key;
        _time = time;
    }

    /// <summary>Null when authorized, otherwise the 401 result to return.</summary>
    public IResult? Check(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        var path = request.Path.Value?.TrimStart('/') ?? "";
        var now = _time.GetUtcNow();
        var last = Volatile.Read(ref _last);
        if (last is not null && string.Equals(last.Header, header, StringComparison.Ordinal) && now < last.ExpiresAt)
        {
            return _hostNames.Covers(last.Token, path) ? null : Unauthorized("the token's resource does not cover this path");
        }

        var error = Validate(header, path, now, out var token);
        if (error is not null)
        {
            return Unauthorized(error);
        }

        Volatile.Write(ref _last, new AcceptedToken(header, token!, token!.ExpiresAt));
        return null;
    }

    private string? Validate(string header, string path, DateTimeOffset now, out SasToken? token)
    {
        token = null;
        if (header.Length == 0)
        {
            return "no Authorization header";
        }

        if (!SasToken.TryParse(header, out token, out var parseError))
        {
            return "malformed SharedAccessSignature: " + parseError;
        }

        if (!string.Equals(token.KeyName, ConnectAuthenticator.OwnerPolicy, StringComparison.Ordinal))
        {
            return $"unknown shared access policy '{token.KeyName}'";
        }

        if (token.IsExpired(now))
        {
            return "the token has expired";
        }

        if (!token.IsSignatureValid(_key))
        {
            return "the signature does not match";
        }

        return _hostNames.Covers(token, path) ? null : "the token's resource does not cover this path";
    }

    private static IResult Unauthorized(string reason) =>
        RestErrors.Error(IotHubErrors.IotHubUnauthorizedAccess, "Unauthorized: " + reason);

    private sealed record AcceptedToken(string Header, SasToken Token, DateTimeOffset ExpiresAt);
}
