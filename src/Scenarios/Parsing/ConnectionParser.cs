using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FleetSim.DeviceActors.Proxy;
using FleetSim.Protocol;
using FleetSim.Scenarios.Model;
using YamlDotNet.RepresentationModel;

namespace FleetSim.Scenarios.Parsing;

/// <summary>
/// How a group's devices reach the hub, beyond the transport: gateway host, TLS, proxy, devices given by
/// connection strings, and files the scenario names (paths are relative to the scenario file).
/// </summary>
internal static class ConnectionParser
{
    private const string ConnectionStringHint = "one device connection string per line: HostName=HUB;DeviceId=ID;SharedAccessKey=KEY[;GatewayHostName=HOST]; '#' starts a comment";

    /// <summary>A host name or IP address to connect to.</summary>
    public static string? HostName(ParseContext ctx, YamlNode node, string what)
    {
        var text = ctx.Text(node, "a host name");
        if (text is null)
        {
            return null;
        }
        text = text.Trim();
        if (Uri.CheckHostName(text) == UriHostNameType.Unknown)
        {
            ctx.Error(node, $"{what}: '{text}' is not a host name or IP address", "e.g. my-gateway.contoso.local or 10.0.0.4, without scheme or port");
            return null;
        }
        return text;
    }

    /// <summary>tls: {versions, cipherSuites, trustedCa}.</summary>
    public static TlsSpec? Tls(ParseContext ctx, YamlNode node)
    {
        var tls = ObjectReader.Open(ctx, node, "tls", "tls");
        if (tls is null)
        {
            return null;
        }
        var errors = ctx.Errors.Count;
        var versions = SslProtocols.None;
        if (tls.Get("versions") is { } versionsNode)
        {
            foreach (var item in List(ctx, versionsNode, "tls.versions", "e.g. versions: [\"1.2\", \"1.3\"]"))
            {
                switch (ctx.Text(item, "a TLS version")?.Trim())
                {
                    case null:
                        break;
                    case "1.2":
                        versions |= SslProtocols.Tls12;
                        break;
                    case "1.3":
                        versions |= SslProtocols.Tls13;
                        break;
                    case var other:
                        ctx.Error(item, $"tls.versions: '{other}' is not a TLS version FleetSim offers", "1.2 or 1.3; IoT Hub refuses TLS 1.0 and 1.1");
                        break;
                }
            }
        }
        List<TlsCipherSuite>? suites = null;
        if (tls.Get("cipherSuites") is { } suitesNode)
        {
            if (OperatingSystem.IsWindows())
            {
                ctx.Error(tls.KeyNode("cipherSuites")!, "tls.cipherSuites cannot be chosen on Windows (.NET's CipherSuitesPolicy is not supported there)", "remove it, or run on Linux or macOS");
            }
            suites = [];
            var names = Enum.GetNames<TlsCipherSuite>();
            foreach (var item in List(ctx, suitesNode, "tls.cipherSuites", "e.g. cipherSuites: [TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]"))
            {
                if (ctx.Text(item, "a cipher suite name")?.Trim() is not { } name)
                {
                    continue;
                }
                if (Enum.TryParse<TlsCipherSuite>(name, ignoreCase: false, out var suite) && !int.TryParse(name, out _))
                {
                    suites.Add(suite);
                }
                else
                {
                    var suggestion = DidYouMean.Suggest(name, names);
                    ctx.Error(item, $"tls.cipherSuites: '{name}' is not a TLS cipher suite", suggestion is null ? "use IANA names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" : $"did you mean '{suggestion}'?");
                }
            }
            if (suites.Count == 0 && ctx.Errors.Count == errors)
            {
                ctx.Error(suitesNode, "tls.cipherSuites: name at least one suite", "or leave it out to let the OS choose");
            }
        }
        var ca = tls.Get("trustedCa") is { } caNode ? TrustedCa(ctx, caNode, "tls.trustedCa") : null;
        return ctx.Errors.Count > errors ? null : new TlsSpec(versions, suites, ca);
    }

    /// <summary>A PEM file holding the CA certificate the hub's certificate must chain to.</summary>
    public static TrustedCaFile? TrustedCa(ParseContext ctx, YamlNode node, string what)
    {
        if (ReadFile(ctx, node, what, out var path) is not { } pem)
        {
            return null;
        }
        try
        {
            using var certificate = X509Certificate2.CreateFromPem(pem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            ctx.Error(node, $"{what}: {path} holds no PEM certificate ({e.Message.TrimEnd('.')})", "expected a file with -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----");
            return null;
        }
        return new TrustedCaFile(path, pem);
    }

    /// <summary>proxy: {url: http://HOST:PORT | socks5://HOST:PORT | socks4://HOST:PORT, username, password}.</summary>
    public static ProxyOptions? Proxy(ParseContext ctx, YamlNode node)
    {
        var proxy = ObjectReader.Open(ctx, node, "proxy", "proxy");
        if (proxy is null || proxy.Get("url") is not { } urlNode || ctx.Text(urlNode, "a proxy URL") is not { } url)
        {
            return null;
        }
        var user = proxy.String("username");
        var password = proxy.String("password");
        const string hint = "http://HOST:PORT for HTTP CONNECT, socks5://HOST:PORT or socks4://HOST:PORT; credentials go in username and password";
        url = url.Trim();
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "socks5" or "socks4" or "socks4a"))
        {
            ctx.Error(urlNode, $"proxy.url: '{Redaction.Redact(url)}' is not an http://, socks5:// or socks4:// URL", hint);
            return null;
        }
        if (uri.UserInfo.Length > 0)
        {
            ctx.Error(urlNode, "proxy.url: credentials in the URL are not accepted (they would end up in logs)", hint);
            return null;
        }
        var afterScheme = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..].TrimEnd('/');
        if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || !afterScheme.Contains(':', StringComparison.Ordinal) || afterScheme.EndsWith(']'))
        {
            ctx.Error(urlNode, $"proxy.url: '{url}' must be just a scheme, a host and a port", hint);
            return null;
        }
        if (password is not null && user is null)
        {
            ctx.Error(proxy.KeyNode("password")!, "proxy.password needs proxy.username");
            return null;
        }
        var kind = uri.Scheme switch { "http" => ProxyKind.Http, "socks5" => ProxyKind.Socks5, _ => ProxyKind.Socks4 };
        var options = new ProxyOptions(kind, uri.IdnHost, uri.Port, user, password);
        if (options.Validate() is { } error)
        {
            ctx.Error(node, error, hint);
            return null;
        }
        return options;
    }

    /// <summary>debugDevices: a list of device ids (checked against the group once its ids are known).</summary>
    public static List<(string Id, YamlNode Node)>? DebugDevices(ParseContext ctx, YamlNode node)
    {
        var errors = ctx.Errors.Count;
        var ids = new List<(string, YamlNode)>();
        foreach (var item in List(ctx, node, "debugDevices", "e.g. debugDevices: [sensor-00001]"))
        {
            if (ctx.Text(item, "a device id") is { } id)
            {
                ids.Add((id.Trim(), item));
            }
        }
        return ctx.Errors.Count > errors ? null : ids;
    }

    /// <summary>
    /// connectionStrings: FILE. Each line a device connection string with a symmetric key; all name the same hub
    /// (and the same gateway, if any). Errors point into the file, and never show a key.
    /// </summary>
    public static DeviceConnectionStrings? ConnectionStrings(ParseContext ctx, YamlNode node, bool withCertificates)
    {
        if (ReadFile(ctx, node, "connectionStrings", out var path) is not { } text)
        {
            return null;
        }
        var errors = ctx.Errors.Count;
        var entries = new List<DeviceConnectionString>();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        DeviceConnectionString? first = null;
        var firstLine = 0;
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            var content = line.Trim();
            if (content.Length == 0 || content.StartsWith('#'))
            {
                continue;
            }
            var lineNumber = i + 1;
            var column = line.Length - line.TrimStart().Length + 1;
            void Fail(string part, string message, string? hint = null)
            {
                var at = part.Length == 0 ? -1 : line.IndexOf(part, StringComparison.OrdinalIgnoreCase);
                ctx.Errors.Add(new ScenarioError(path, lineNumber, at < 0 ? column : at + 1, Redaction.Redact(message), hint));
            }

            if (!DeviceConnectionString.TryParse(content, out var entry, out var error))
            {
                Fail("", error, ConnectionStringHint);
                continue;
            }
            if (entry.ModuleId is not null)
            {
                Fail("ModuleId=", $"device '{entry.DeviceId}': module identities are not supported", "give device connection strings, without ModuleId");
            }
            else if (entry.UsesX509 && !withCertificates)
            {
                Fail("x509=", $"device '{entry.DeviceId}': an x509=true connection string carries no certificate",
                    "give the group certificates: FOLDER with {deviceId}.pem (certificate and key) per device");
            }
            else if (!entry.UsesX509 && withCertificates)
            {
                Fail("", $"device '{entry.DeviceId}': the group has certificates, but this connection string is not x509=true",
                    "a group's connection strings are all x509=true (with certificates) or all SharedAccessKey");
            }
            else if (entry.SharedAccessKey is null && !entry.UsesX509)
            {
                Fail("SharedAccessSignature=", $"device '{entry.DeviceId}': the connection string has a SharedAccessSignature but no SharedAccessKey",
                    "a ready-made token cannot be renewed; give the device's key (or use credential: sasToken)");
            }
            else if (!DeviceIdRules.IsDeviceId(entry.DeviceId))
            {
                Fail("DeviceId=", $"'{entry.DeviceId}' is not a valid device id", "ids may hold letters, digits and - . % _ * ? ! ( ) , : = @ $ ', at most 128 characters");
            }
            else if (!ids.TryAdd(entry.DeviceId, lineNumber))
            {
                Fail("DeviceId=", $"device '{entry.DeviceId}' is listed twice", $"line {ids[entry.DeviceId]} has it already");
            }
            else if (first is not null && !string.Equals(entry.HostName, first.HostName, StringComparison.OrdinalIgnoreCase))
            {
                Fail("HostName=", $"device '{entry.DeviceId}' names hub '{entry.HostName}', line {firstLine} names '{first.HostName}'", "a group connects to one hub; put other hubs' devices in another scenario");
            }
            else if (entry.GatewayHostName is { } gateway && !IsHostAndPort(gateway))
            {
                Fail("GatewayHostName=", $"device '{entry.DeviceId}': GatewayHostName '{gateway}' is not a host name, optionally with :PORT", "e.g. GatewayHostName=edge.local or GatewayHostName=localhost:18883");
            }
            else if (first is not null && !string.Equals(entry.GatewayHostName, first.GatewayHostName, StringComparison.OrdinalIgnoreCase))
            {
                Fail(entry.GatewayHostName is null ? "" : "GatewayHostName=", $"device '{entry.DeviceId}' has GatewayHostName '{entry.GatewayHostName ?? "(none)"}', line {firstLine} has '{first.GatewayHostName ?? "(none)"}'",
                    "a group connects through one gateway; split the file into groups");
            }
            else
            {
                if (first is null)
                {
                    first = entry;
                    firstLine = lineNumber;
                }
                entries.Add(entry);
            }
        }
        if (ctx.Errors.Count > errors)
        {
            return null;
        }
        if (entries.Count == 0)
        {
            ctx.Error(node, $"connectionStrings: {path} holds no connection string", ConnectionStringHint);
            return null;
        }
        return new DeviceConnectionStrings(path, entries);
    }

    private static bool IsHostAndPort(string gateway)
    {
        var (host, port) = DeviceConnectionStrings.SplitHostAndPort(gateway);
        return Uri.CheckHostName(host) != UriHostNameType.Unknown && port is null or (> 0 and <= 65535) && (port is not null || !gateway.Contains(':', StringComparison.Ordinal) || Uri.CheckHostName(gateway) == UriHostNameType.IPv6);
    }

    /// <summary>
    /// certificates: FOLDER. Every device of the group needs its files there; the first one is read now, so a format
    /// problem shows at validation; the rest are read when the run starts.
    /// </summary>
    public static CertificateFolder? Certificates(ParseContext ctx, YamlNode node, Func<int, string> deviceId, int count)
    {
        if (ctx.Text(node, "a folder path") is not { } text)
        {
            return null;
        }
        text = text.Trim();
        var path = Path.IsPathRooted(text) ? text : Path.Combine(Path.GetDirectoryName(ctx.File) ?? "", text);
        if (!Directory.Exists(path))
        {
            ctx.Error(node, $"certificates: {path} is not a folder", "paths are relative to the scenario file");
            return null;
        }
        var folder = new CertificateFolder(path);
        var missing = new List<string>();
        for (var i = 0; i < count; i++)
        {
            if (folder.FilesOf(deviceId(i)) is null)
            {
                missing.Add(deviceId(i));
            }
        }
        if (missing.Count > 0)
        {
            ctx.Error(node, $"certificates: {path} has no certificate for {missing.Count} of {count} devices, e.g. '{missing[0]}'",
                $"expected {missing[0]}.pem (certificate and private key), or {missing[0]}.cert.pem and {missing[0]}.key.pem");
            return null;
        }
        try
        {
            folder.Load(deviceId(0)).Dispose();
        }
        catch (InvalidOperationException e)
        {
            ctx.Error(node, "certificates: " + e.Message);
            return null;
        }
        return folder;
    }

    /// <summary>The nodes of a YAML list (a single scalar counts as a list of one); an error for anything else.</summary>
    private static IReadOnlyList<YamlNode> List(ParseContext ctx, YamlNode node, string what, string hint)
    {
        switch (node)
        {
            case YamlSequenceNode sequence when sequence.Children.Count > 0:
                return [.. sequence.Children];
            case YamlScalarNode when !ParseContext.IsNull(node):
                return [node];
            default:
                ctx.Error(node, $"{what}: expected a non-empty list, found {ParseContext.Describe(node)}", hint);
                return [];
        }
    }

    /// <summary>Reads a file named by a scalar, relative to the scenario file; null (error added) when it cannot be read.</summary>
    private static string? ReadFile(ParseContext ctx, YamlNode node, string what, out string path)
    {
        path = "";
        if (ctx.Text(node, "a file path") is not { } text)
        {
            return null;
        }
        text = text.Trim();
        path = Path.IsPathRooted(text) ? text : Path.Combine(Path.GetDirectoryName(ctx.File) ?? "", text);
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            var reason = e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : e.Message;
            ctx.Error(node, $"{what}: cannot read {path}: {reason}", "paths are relative to the scenario file");
            return null;
        }
    }
}
