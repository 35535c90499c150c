using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using FleetSim.Conformance.Tests.Harness;

namespace FleetSim.Conformance.Tests.Cases;

/// <summary>The Node device SDK's X.509 path against the emulator: MQTT CONNECT and file upload by client certificate.</summary>
[Collection(ConformanceCollection.Name)]
public sealed class X509Tests(ConformanceFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-conf-x509-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_self_signed_x509_device_sends_telemetry_and_uploads_a_file_with_its_certificate()
    {
        var id = $"conf-x509-{Guid.NewGuid().ToString("N")[..8]}";
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={id}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        await fixture.Api.SendAsync(HttpMethod.Put, $"devices/{id}?api-version=2021-04-12", new JsonObject
        {
            ["deviceId"] = id,
            ["status"] = "enabled",
            ["authentication"] = new JsonObject
            {
                ["type"] = "selfSigned",
                ["x509Thumbprint"] = new JsonObject { ["primaryThumbprint"] = certificate.Thumbprint, ["secondaryThumbprint"] = certificate.Thumbprint },
            },
        });
        var certPath = Path.Combine(_dir, "device.cert.pem");
        var keyPath = Path.Combine(_dir, "device.key.pem");
        await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());
        var before = await HubAssert.StatsAsync(fixture);
        var text = $"x509 upload {Guid.NewGuid()}";

        var env = fixture.Environment();
        // The SDK's X.509 provider ignores GatewayHostName and always dials {HostName}:8883, so the harness's port
        // forward (lib/port-map.js) takes 8883 to the hub's MQTT port as it takes 443 to its HTTPS port.
        env["FLEETSIM_DEVICE_CS"] = $"HostName={fixture.State.HostName};DeviceId={id};x509=true";
        env["FLEETSIM_PORT_MAP"] = $"{fixture.State.HostName}:443={fixture.State.HttpsPort},{fixture.State.HostName}:8883={fixture.State.MqttPort}";
        env["FLEETSIM_CERT_PATH"] = certPath;
        env["FLEETSIM_KEY_PATH"] = keyPath;
        env["FLEETSIM_BLOB_NAME"] = "x509/conformance-x509.txt";
        env["FLEETSIM_BLOB_TEXT"] = text;
        var result = await fixture.RunAsync("x509.js", env, TimeSpan.FromSeconds(45));

        result.AssertPassed();
        await HubAssert.StatsChangedAsync(fixture, before, StatChange.Exactly("ingested", 1));
        await HubAssert.BlobStoredAsync(fixture, "conformance-x509.txt", text);
    }
}
