using System.Security.Cryptography.X509Certificates;

namespace FleetSim.DeviceActors;

/// <summary>
/// Who one simulated device is. Exactly one credential is used, in this order: <see cref="ClientCertificate"/>
/// (X.509, no password), <see cref="SymmetricKey"/> (a SAS token minted per connect), <see cref="SasToken"/>
/// (a user-supplied token, renewed through <see cref="DeviceOptions.SasTokenProvider"/>).
/// </summary>
/// <param name="DeviceId">The IoT Hub device id; also the MQTT client id.</param>
/// <param name="Index">Position in the fleet (0-based); seeds the device's jitter and feeds the payload factory.</param>
/// <param name="SymmetricKey">The device's base64 key, or null.</param>
/// <param name="SasToken">A ready-made SAS token, or null.</param>
/// <param name="ClientCertificate">An X.509 client certificate with its private key, or null.</param>
public sealed record DeviceIdentity(
    string DeviceId,
    int Index,
    string? SymmetricKey,
    string? SasToken = null,
    X509Certificate2? ClientCertificate = null)
{
    /// <summary>
    /// A device from its connection string (the SDKs' create_from_connection_string): the key or the
    /// SharedAccessSignature becomes the credential; HostName and GatewayHostName are returned for the group's
    /// <see cref="DeviceOptions.HostName"/> and <see cref="DeviceOptions.EndpointHost"/>. An x509=true string
    /// needs the device's certificate.
    /// </summary>
    /// <exception cref="FormatException">The string is malformed, names a module, or x509=true comes without a certificate.</exception>
    public static (DeviceIdentity Identity, string HostName, string? GatewayHostName) FromConnectionString(
        string connectionString, int index, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        var cs = FleetSim.Protocol.DeviceConnectionString.Parse(connectionString);
        if (cs.ModuleId is not null)
            throw new FormatException($"device '{cs.DeviceId}': module identities (ModuleId={cs.ModuleId}) are not simulated; use a device connection string");
        if (cs.UsesX509 && certificate is null)
            throw new FormatException($"device '{cs.DeviceId}': the connection string says x509=true but no client certificate was given");
        var identity = cs.UsesX509
            ? new DeviceIdentity(cs.DeviceId, index, null, ClientCertificate: certificate)
            : new DeviceIdentity(cs.DeviceId, index, cs.SharedAccessKey, cs.SharedAccessSignature);
        return (identity, cs.HostName, cs.GatewayHostName);
    }

    /// <summary>Keeps keys and tokens out of logs.</summary>
    public override string ToString() =>
        $"DeviceIdentity {{ DeviceId = {DeviceId}, Index = {Index}, Credential = {Credential} }}";

    internal string Credential =>
        ClientCertificate is not null ? "x509" : SymmetricKey is not null ? "symmetricKey" : SasToken is not null ? "sasToken" : "none";
}
