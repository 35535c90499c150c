namespace FleetSim.HubEmulator.Registry;

/// <summary>How a device proves who it is: a SAS token from its symmetric key, or an X.509 client certificate.</summary>
public enum DeviceAuthenticationType
{
    /// <summary>Symmetric keys; the wire name is "sas".</summary>
    Sas,

    /// <summary>A self-signed certificate matched by thumbprint; the wire name is "selfSigned".</summary>
    SelfSigned,

    /// <summary>A certificate signed by a trusted CA with CN = device id; the wire name is "certificateAuthority".</summary>
    CertificateAuthority,
}

/// <summary>One device identity as the registry stores it; immutable, replaced as a whole on every update.</summary>
public sealed record DeviceIdentity(
    string DeviceId,
    bool Enabled,
    string? StatusReason,
    DeviceAuthenticationType AuthenticationType,
    string? PrimaryKey,
    string? SecondaryKey,
    string? PrimaryThumbprint,
    string? SecondaryThumbprint,
    bool IotEdge,
    string ETag,
    string GenerationId,
    DateTimeOffset StatusUpdatedTime,
    long Version)
{
    public string Status => Enabled ? "enabled" : "disabled";

    /// <summary>Keeps the keys out of logs and exception messages (thumbprints are not secret).</summary>
    public override string ToString() =>
        $"DeviceIdentity {{ DeviceId = {DeviceId}, Enabled = {Enabled}, AuthenticationType = {AuthenticationType}, PrimaryKey = {Masked(PrimaryKey)}, " +
        $"SecondaryKey = {Masked(SecondaryKey)}, PrimaryThumbprint = {PrimaryThumbprint}, SecondaryThumbprint = {SecondaryThumbprint}, ETag = {ETag}, Version = {Version} }}";

    private static string Masked(string? secret) => secret is null ? "" : FleetSim.Protocol.Redaction.Mask;

    /// <summary>Device connection string for this identity (SAS devices only). It carries a secret: never log it.</summary>
    public string ConnectionString(string hostName) =>
        AuthenticationType == DeviceAuthenticationType.Sas
            ? $"HostName={hostName};DeviceId={DeviceId};SharedAccessKey={PrimaryKey}"
            : $"HostName={hostName};DeviceId={DeviceId};x509=true";

    internal static string WireName(DeviceAuthenticationType type) => type switch
    {
        DeviceAuthenticationType.SelfSigned => "selfSigned",
        DeviceAuthenticationType.CertificateAuthority => "certificateAuthority",
        _ => "sas",
    };

    internal static bool TryParseWireName(string? name, out DeviceAuthenticationType type)
    {
        switch (name)
        {
            case null or "sas":
                type = DeviceAuthenticationType.Sas;
                return true;
            case "selfSigned":
                type = DeviceAuthenticationType.SelfSigned;
                return true;
            case "certificateAuthority":
                type = DeviceAuthenticationType.CertificateAuthority;
                return true;
            default:
                type = default;
                return false;
        }
    }
}

/// <summary>What a caller asks the registry to store for a device (keys and thumbprints as given, null = generate or keep).</summary>
public sealed record DeviceSpec(
    string DeviceId,
    bool Enabled = true,
    DeviceAuthenticationType AuthenticationType = DeviceAuthenticationType.Sas,
    string? PrimaryKey = null,
    string? SecondaryKey = null,
    string? PrimaryThumbprint = null,
    string? SecondaryThumbprint = null,
    bool IotEdge = false,
    string? StatusReason = null);
