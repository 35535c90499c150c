using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Certificates;
using FleetSim.HubEmulator.Registry;

namespace FleetSim.HubEmulator.Tests.FileUpload;

/// <summary>X.509 devices' file-upload HTTPS, authenticated by the TLS client certificate (no Authorization header).</summary>
public sealed class X509FileUploadTests
{
    [Fact]
    public async Task Self_signed_device_uploads_with_its_registered_certificate_end_to_end()
    {
        await using var hub = await TestHub.StartAsync();
        using var certificate = EmulatorCertificates.CreateSelfSignedDeviceCertificate("x1", TimeSpan.FromDays(1));
        hub.Hub.Registry.Put(new DeviceSpec("x1", AuthenticationType: DeviceAuthenticationType.SelfSigned, PrimaryThumbprint: certificate.Thumbprint), null);
        using var http = ClientWith(hub, certificate);

        using var started = await http.PostAsync("devices/x1/files?api-version=2021-04-12", Json("""{"blobName":"x.bin"}"""));
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        var info = JsonNode.Parse(await started.Content.ReadAsStringAsync())!;
        using var put = await http.PutAsync($"https://{info["hostName"]}/{info["containerName"]}/{info["blobName"]}{info["sasToken"]}", new StringContent("x509 body"));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using var notified = await http.PostAsync("devices/x1/files/notifications?api-version=2021-04-12",
            Json($$"""{"correlationId":"{{info["correlationId"]}}","isSuccess":true,"statusCode":201}"""));

        Assert.Equal(HttpStatusCode.NoContent, notified.StatusCode);
        var record = hub.Hub.FileUploads.Find((string)info["correlationId"]!)!;
        Assert.True(record.Notified);
        Assert.Equal("x509 body", await File.ReadAllTextAsync(record.FilePath));
    }

    [Fact]
    public async Task Ca_signed_device_certificate_for_this_device_is_accepted_on_the_node_style_notification_too()
    {
        await using var hub = await TestHub.StartAsync();
        using var certificate = hub.Hub.Certificates.CreateDeviceCertificate("x2", TimeSpan.FromDays(1));
        hub.Hub.Registry.Put(new DeviceSpec("x2", AuthenticationType: DeviceAuthenticationType.CertificateAuthority), null);
        using var http = ClientWith(hub, certificate);

        using var started = await http.PostAsync("devices/x2/files", Json("""{"blobName":"y.bin"}"""));
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        var correlationId = (string)JsonNode.Parse(await started.Content.ReadAsStringAsync())!["correlationId"]!;
        using var notified = await http.PostAsync($"devices/x2/files/notifications/{Uri.EscapeDataString(correlationId)}",
            Json("""{"isSuccess":false,"statusCode":500}"""));

        Assert.Equal(HttpStatusCode.NoContent, notified.StatusCode);
    }

    [Fact]
    public async Task An_unregistered_certificate_gets_401()
    {
        await using var hub = await TestHub.StartAsync();
        using var registered = EmulatorCertificates.CreateSelfSignedDeviceCertificate("x1", TimeSpan.FromDays(1));
        using var other = EmulatorCertificates.CreateSelfSignedDeviceCertificate("x1", TimeSpan.FromDays(1));
        hub.Hub.Registry.Put(new DeviceSpec("x1", AuthenticationType: DeviceAuthenticationType.SelfSigned, PrimaryThumbprint: registered.Thumbprint), null);
        using var http = ClientWith(hub, other);

        using var refused = await http.PostAsync("devices/x1/files", Json("""{"blobName":"x.bin"}"""));

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Empty(hub.Hub.FileUploads.All());
    }

    [Fact]
    public async Task Another_devices_ca_signed_certificate_and_no_certificate_get_401()
    {
        await using var hub = await TestHub.StartAsync();
        using var wrongName = hub.Hub.Certificates.CreateDeviceCertificate("someone-else", TimeSpan.FromDays(1));
        hub.Hub.Registry.Put(new DeviceSpec("x3", AuthenticationType: DeviceAuthenticationType.CertificateAuthority), null);
        using var http = ClientWith(hub, wrongName);

        using var refused = await http.PostAsync("devices/x3/files", Json("""{"blobName":"x.bin"}"""));
        using var anonymous = await hub.Http.PostAsync("devices/x3/files", Json("""{"blobName":"x.bin"}"""));

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task A_certificate_does_not_authenticate_a_sas_device()
    {
        await using var hub = await TestHub.StartAsync();
        hub.Hub.Registry.Add("s1");
        using var certificate = hub.Hub.Certificates.CreateDeviceCertificate("s1", TimeSpan.FromDays(1));
        using var http = ClientWith(hub, certificate);

        using var refused = await http.PostAsync("devices/s1/files", Json("""{"blobName":"x.bin"}"""));

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static HttpClient ClientWith(TestHub hub, X509Certificate2 certificate)
    {
        var ca = X509Certificate2.CreateFromPem(hub.Hub.CaCertificatePem);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = new X509CertificateCollection { certificate },
                RemoteCertificateValidationCallback = (_, server, _, errors) =>
                {
                    if (server is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                        return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    using var leaf = new X509Certificate2(server);
                    return chain.Build(leaf);
                },
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri($"https://localhost:{hub.Hub.HttpsPort}/") };
    }
}
