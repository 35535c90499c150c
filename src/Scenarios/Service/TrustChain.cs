using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace FleetSim.Scenarios.Service;

/// <summary>Validates a server certificate against one trusted CA (the emulator's), keeping the host-name check.</summary>
public static class TrustChain
{
    public static bool Validate(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 trustedCa)
    {
        if (errors == SslPolicyErrors.None)
            return true;
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
            return false;

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(trustedCa);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
