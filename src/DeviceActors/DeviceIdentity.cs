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
    /// <summary>Keeps keys and tokens out of logs.</summary>
    public override string ToString() =>
        $"DeviceIdentity {{ DeviceId = {DeviceId}, Index = {Index}, Credential = {Credential} }}";

    internal string Credential =>
        ClientCertificate is not null ? "x509" : SymmetricKey is not null ? "symmetricKey" : SasToken is not null ? "sasToken" : "none";
}
