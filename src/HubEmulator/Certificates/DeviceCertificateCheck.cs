using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FleetSim.HubEmulator.Registry;

namespace FleetSim.HubEmulator.Certificates;

/// <summary>
/// Whether a TLS client certificate authenticates an X.509 device, by the hub's rules: a self-signed device's
/// certificate must be valid now and match its primary or secondary thumbprint (SHA-1 or SHA-256); a CA-signed
/// device's certificate must chain to the emulator CA with CN = device id. MQTT CONNECT and the device HTTPS
/// endpoints (file upload) use the same check.
/// </summary>
internal sealed class DeviceCertificateCheck(EmulatorCertificates certificates, TimeProvider time)
{
    public bool Authenticates(DeviceIdentity identity, X509Certificate2 certificate)
    {
        switch (identity.AuthenticationType)
        {
            case DeviceAuthenticationType.SelfSigned:
                var now = time.GetUtcNow();
                if (now < certificate.NotBefore || now > certificate.NotAfter)
                {
                    return false;
                }

                var sha1 = certificate.Thumbprint;
                var sha256 = Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256));
                return Matches(identity.PrimaryThumbprint, sha1, sha256) || Matches(identity.SecondaryThumbprint, sha1, sha256);
            case DeviceAuthenticationType.CertificateAuthority:
                var commonName = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
                return string.Equals(commonName, identity.DeviceId, StringComparison.Ordinal)
                       && certificates.IsIssuedByCa(certificate, time.GetUtcNow());
            default:
                return false;
        }
    }

    private static bool Matches(string? registered, string sha1, string sha256) =>
        registered is not null
        && (string.Equals(registered, sha1, StringComparison.OrdinalIgnoreCase) || string.Equals(registered, sha256, StringComparison.OrdinalIgnoreCase));
}
