using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FleetSim.HubEmulator.Certificates;

/// <summary>
/// The emulator's own small PKI, made fresh at every start: a CA (written as ca.pem for clients to trust), the
/// TLS server certificate it signs, and, on request, device certificates for X.509 authentication.
/// ECDSA P-256 keeps TLS handshakes cheap when a whole fleet connects at once.
/// </summary>
public sealed class EmulatorCertificates : IDisposable
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    private EmulatorCertificates(X509Certificate2 ca, X509Certificate2 server)
    {
        Ca = ca;
        Server = server;
        CaPem = ca.ExportCertificatePem();
    }

    /// <summary>The CA certificate, with its private key (it signs server and device certificates).</summary>
    public X509Certificate2 Ca { get; }

    /// <summary>The TLS server certificate with its private key.</summary>
    public X509Certificate2 Server { get; }

    public string CaPem { get; }

    /// <param name="extraAddresses">More addresses the server certificate names (a partitioned hub's 127.0.0.x listeners).</param>
    public static EmulatorCertificates Create(string hostName, TimeProvider time, IEnumerable<IPAddress>? extraAddresses = null)
    {
        var now = time.GetUtcNow();
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=FleetSim IoT Hub emulator CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(2));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest($"CN={hostName}", serverKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        foreach (var address in extraAddresses ?? [])
        {
            san.AddIpAddress(address);
        }

        if (IPAddress.TryParse(hostName, out var hostIp))
        {
            san.AddIpAddress(hostIp);
        }
        else if (!string.Equals(hostName, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            san.AddDnsName(hostName);
        }

        serverRequest.CertificateExtensions.Add(san.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuth], false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7f;
        using var serverPublic = serverRequest.Create(ca, now.AddDays(-1), now.AddYears(1), serial);
        var server = serverPublic.CopyWithPrivateKey(serverKey);
        return new EmulatorCertificates(ca, server);
    }

    /// <summary>
    /// Writes the CA and the server certificate with their keys as one PKCS#12 file, readable by its owner only: the
    /// partitions of a partitioned hub load it (<see cref="Load"/>) so devices see one CA and one server certificate.
    /// </summary>
    public void Export(string path)
    {
        var bytes = new X509Certificate2Collection { Ca, Server }.Export(X509ContentType.Pkcs12)
            ?? throw new InvalidOperationException("the certificates could not be exported");
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // private keys: owner only, from the start
        }

        File.Delete(path); // the mode applies only to a file created now
        using var stream = new FileStream(path, options);
        stream.Write(bytes);
    }

    /// <summary>Reads what <see cref="Export"/> wrote.</summary>
    public static EmulatorCertificates Load(string path)
    {
        var collection = X509CertificateLoader.LoadPkcs12CollectionFromFile(path, null);
        X509Certificate2? ca = null, server = null;
        foreach (var certificate in collection)
        {
            var isCa = certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(static b => b.CertificateAuthority);
            if (isCa && ca is null)
            {
                ca = certificate;
            }
            else if (!isCa && server is null)
            {
                server = certificate;
            }
            else
            {
                certificate.Dispose();
            }
        }

        if (ca is null || server is null || !ca.HasPrivateKey || !server.HasPrivateKey)
        {
            ca?.Dispose();
            server?.Dispose();
            throw new InvalidOperationException($"{path} does not hold the emulator's CA and server certificate with their keys");
        }

        return new EmulatorCertificates(ca, server);
    }

    /// <summary>
    /// Mints a client certificate for a device (subject CN = device id), signed by the emulator CA: a device
    /// registered with authentication type certificateAuthority connects with it.
    /// </summary>
    public X509Certificate2 CreateDeviceCertificate(string deviceId, TimeSpan validity)
    {
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={deviceId}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ClientAuth], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Ca, true, false));
        var now = DateTimeOffset.UtcNow;
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7f;
        using var publicOnly = request.Create(Ca, now.AddMinutes(-5), now.Add(validity), serial);
        return publicOnly.CopyWithPrivateKey(key);
    }

    /// <summary>Mints a self-signed device certificate (authentication type selfSigned: the hub matches its thumbprint).</summary>
    public static X509Certificate2 CreateSelfSignedDeviceCertificate(string deviceId, TimeSpan validity)
    {
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={deviceId}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ClientAuth], false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.Add(validity));
    }

    /// <summary>True when <paramref name="certificate"/> was issued by the emulator CA and is within its validity.</summary>
    public bool IsIssuedByCa(X509Certificate2 certificate, DateTimeOffset now)
    {
        if (now < certificate.NotBefore || now > certificate.NotAfter)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        return chain.Build(certificate);
    }

    public void Dispose()
    {
        Ca.Dispose();
        Server.Dispose();
    }
}
