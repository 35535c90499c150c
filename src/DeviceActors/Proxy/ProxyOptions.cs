namespace FleetSim.DeviceActors.Proxy;

/// <summary>The proxy protocols a device can tunnel through: the Python SDK's ProxyOptions types HTTP, SOCKS4 and SOCKS5.</summary>
public enum ProxyKind
{
    /// <summary>HTTP CONNECT tunnel (RFC 9110 section 9.3.6), optional Basic authentication.</summary>
    Http,

    /// <summary>SOCKS5 (RFC 1928), optional user name/password authentication (RFC 1929); the proxy resolves host names.</summary>
    Socks5,

    /// <summary>SOCKS4 in its 4a form (the proxy resolves host names); the user name is sent as the user id; no password, no IPv6.</summary>
    Socks4,
}

/// <summary>
/// A proxy every connection of a device goes through: MQTT over TLS, MQTT over WebSockets and the HTTPS of file
/// uploads (the SDKs' <c>proxy_options</c>). TLS still runs end to end with the hub; the proxy sees only the tunnel.
/// The password is a secret: <see cref="ToString"/> never shows it.
/// </summary>
public sealed record ProxyOptions(ProxyKind Kind, string Host, int Port, string? UserName = null, string? Password = null)
{
    /// <summary>The proxy as a URI without credentials (http://, socks4a:// or socks5://host:port), as .NET's WebProxy takes it.</summary>
    public Uri Address => new UriBuilder(Kind switch { ProxyKind.Http => "http", ProxyKind.Socks4 => "socks4a", _ => "socks5" }, Host, Port).Uri;

    /// <summary>Checks the options; null when valid, else what is wrong.</summary>
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(Host)) return "proxy: the host is required";
        if (Port is <= 0 or > 65535) return $"proxy: port must be 1..65535 (found {Port})";
        if (Password is not null && UserName is null) return "proxy: a password needs a user name";
        if (Kind == ProxyKind.Socks4 && Password is not null) return "proxy: SOCKS4 has no password (its only credential is the user id: give just a user name)";
        if (Kind == ProxyKind.Socks5 && (UserName?.Length > 255 || Password?.Length > 255))
            return "proxy: SOCKS5 user names and passwords are at most 255 bytes";
        return null;
    }

    public override string ToString() =>
        $"{Address.GetLeftPart(UriPartial.Authority)}{(UserName is null ? "" : $" (user {UserName}, password {(Password is null ? "none" : Protocol.Redaction.Mask)})")}";
}
