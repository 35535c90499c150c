using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using FleetSim.DeviceActors.Proxy;
using FleetSim.DeviceActors.Tests.Proxy;
using FleetSim.HubEmulator;
using FleetSim.HubEmulator.Certificates;
using FleetSim.HubEmulator.Registry;

namespace FleetSim.Simulator.Tests;

/// <summary>
/// The SDKs' client options chosen in a scenario, end to end through <c>fleetsim run</c>: devices created from
/// connection strings, a hub on its own ports with its own CA (here an emulator started by the test, standing in
/// for an existing hub), gateway host name, TLS versions, a CA the hub does not chain to, and per-device debug logs.
/// </summary>
public sealed class ConnectionOptionRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-connrun-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonNode Latency(JsonNode report, string operation) => report["latency"]![operation]!;

    [Fact]
    public async Task Devices_from_connection_strings_run_against_an_existing_hub_on_its_own_ports_and_ca()
    {
        await using var hub = await IoTHubEmulator.StartAsync(new HubEmulatorOptions { HostName = "localhost", MqttPort = 0, HttpsPort = 0 });
        var lines = new List<string> { "# devices registered by someone else" };
        for (var i = 0; i < 3; i++)
        {
            var device = hub.Registry.Add($"existing-{i}");
            lines.Add($"HostName=localhost;DeviceId={device.DeviceId};SharedAccessKey={device.PrimaryKey}");
        }
        await File.WriteAllLinesAsync(Path.Combine(_dir, "devices.txt"), lines);
        await File.WriteAllTextAsync(Path.Combine(_dir, "hub-ca.pem"), hub.CaCertificatePem);
        var path = Path.Combine(_dir, "existing.yaml");
        await File.WriteAllTextAsync(path, $$"""
            name: existing-hub
            hub:
              connectionString: "${FLEETSIM_TEST_SERVICE}"
              mqttPort: {{hub.MqttPort}}
              httpsPort: {{hub.HttpsPort}}
              trustedCa: hub-ca.pem
            deviceGroups:
              - name: listed
                connectionStrings: devices.txt
                telemetry: {interval: 500ms}
                debugDevices: [existing-1]
            duration: 8s
            thresholds:
              telemetry: ["lost == 0"]
            """);
        var outDir = Path.Combine(_dir, "out");

        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(2), _dir, ["run", path, "--out", outDir, "--quiet"],
            new Dictionary<string, string> { ["FLEETSIM_TEST_SERVICE"] = hub.ServiceConnectionString });

        Assert.True(result.ExitCode == 0, result.All);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "report.json")))!;
        Assert.Equal("external", report["run"]!["hubKind"]!.GetValue<string>());
        Assert.Equal(3, Latency(report, "connect")["count"]!.GetValue<long>());
        Assert.Equal(3, hub.Registry.Count); // nothing was registered: the devices existed
        var sent = report["telemetry"]!["sent"]!.GetValue<long>();
        Assert.True(sent >= 3 * 4, $"only {sent} messages sent"); // 8 s at 2/s each: room for slow connects on a loaded machine
        Assert.Equal(sent, hub.Stats().Ingested);

        // Only the listed debug device logged, to debug.log next to the report, and no secret went with it.
        var debug = await File.ReadAllTextAsync(Path.Combine(outDir, "debug.log"));
        Assert.Contains("device existing-1: Idle -> Connecting", debug);
        Assert.Contains("device existing-1: Connecting -> ", debug);
        Assert.DoesNotContain("device existing-0", debug);
        Assert.DoesNotContain("device existing-2", debug);
        foreach (var line in lines.Skip(1))
            Assert.DoesNotContain(line.Split("SharedAccessKey=")[1], debug);
        Assert.Contains("debug.log", result.Stdout);
    }

    [Fact]
    public async Task Gateway_host_tls_versions_listed_devices_and_a_foreign_ca_on_the_embedded_hub()
    {
        // A CA the emulator's certificate does not chain to (the SDKs' server_verification_cert set wrongly).
        using (var key = ECDsa.Create())
        {
            using var other = new CertificateRequest("CN=someone else's CA", key, HashAlgorithmName.SHA256)
                .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllTextAsync(Path.Combine(_dir, "other-ca.pem"), other.ExportCertificatePem());
        }
        // Connection strings of a real hub: on the embedded hub the devices are registered with these keys.
        await File.WriteAllLinesAsync(Path.Combine(_dir, "fleet.txt"),
        [
            "HostName=contoso.azure-devices.net;DeviceId=cs-0;SharedAccessKey=" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            "HostName=contoso.azure-devices.net;DeviceId=cs-1;SharedAccessKey=" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        ]);
        var path = Path.Combine(_dir, "options.yaml");
        await File.WriteAllTextAsync(path, """
            name: connection-options
            deviceGroups:
              - {name: listed, connectionStrings: fleet.txt, telemetry: {interval: 1s}}
              - {name: gateway, count: 2, idPrefix: gw-, gatewayHostName: localhost, tls: {versions: ["1.3"]}, transport: mqtt-ws, telemetry: {interval: 1s}}
              - {name: tls12, count: 2, idPrefix: t12-, tls: {versions: ["1.2"], cipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]}, telemetry: {interval: 1s}}
              - {name: rsaonly, count: 1, idPrefix: rsa-, tls: {versions: ["1.2"], cipherSuites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]}, retry: {policy: none}}
              - {name: distrust, count: 2, idPrefix: bad-ca-, tls: {trustedCa: other-ca.pem}}
            duration: 4s
            """);
        var outDir = Path.Combine(_dir, "out");

        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(2), _dir, "run", path, "--out", outDir, "--quiet");

        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "report.json")))!;
        var connect = Latency(report, "connect");
        Assert.True(connect["count"]!.GetValue<long>() == 6, result.All + connect.ToJsonString());
        // The two devices told to trust another CA refused the hub's certificate, once each, and stopped.
        Assert.Equal(2, connect["failures"]!["untrustedServer"]!.GetValue<long>());
        // The device offering only an RSA suite could not agree with the hub's ECDSA certificate: its handshake failed.
        Assert.Equal(3, connect["failed"]!.GetValue<long>());
        var telemetry = report["telemetry"]!;
        Assert.Equal(telemetry["sent"]!.GetValue<long>(), telemetry["ingested"]!.GetValue<long>());
        Assert.True(telemetry["sent"]!.GetValue<long>() >= 6 * 3);
        Assert.False(File.Exists(Path.Combine(outDir, "debug.log")), "no debugDevices, no debug log");
    }

    [Fact]
    public async Task Devices_reach_the_embedded_hub_through_http_and_socks5_proxies_and_a_wrong_proxy_password_stops_them()
    {
        await using var http = new TestProxy(ProxyKind.Http, "fleet", "http-secret");
        await using var socks = new TestProxy(ProxyKind.Socks5, "fleet", "s0cks-secret");
        var path = Path.Combine(_dir, "proxies.yaml");
        await File.WriteAllTextAsync(path, $$"""
            name: proxies
            deviceGroups:
              - name: via-http
                count: 2
                idPrefix: http-
                proxy: {url: "http://127.0.0.1:{{http.Port}}", username: fleet, password: "${FLEETSIM_TEST_PROXY_PASSWORD}"}
                telemetry: {interval: 1s}
                fileUpload: {interval: 1s, sizeBytes: 512}
              - name: via-socks
                count: 2
                idPrefix: socks-
                transport: mqtt-ws
                proxy: {url: "socks5://127.0.0.1:{{socks.Port}}", username: fleet, password: s0cks-secret}
                telemetry: {interval: 1s}
                debugDevices: [socks-0]
              - name: wrong-password
                count: 1
                idPrefix: wrong-
                proxy: {url: "http://127.0.0.1:{{http.Port}}", username: fleet, password: guessed}
            duration: 4s
            """);
        var outDir = Path.Combine(_dir, "out");

        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(2), _dir, ["run", path, "--out", outDir, "--quiet"],
            new Dictionary<string, string> { ["FLEETSIM_TEST_PROXY_PASSWORD"] = "http-secret" });

        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "report.json")))!;
        var connect = Latency(report, "connect");
        Assert.True(connect["count"]!.GetValue<long>() == 4, result.All + connect.ToJsonString());
        // The device with the wrong proxy password was refused by the proxy once and stopped: no retry storm.
        Assert.Equal(1, connect["failures"]!["proxyUnauthorized"]!.GetValue<long>());
        Assert.True(http.Refusals >= 1);
        // Every device that connected went through its proxy: MQTT over TLS and file-upload HTTPS via HTTP CONNECT,
        // MQTT over WebSockets via SOCKS5.
        Assert.True(http.Tunnels >= 3, $"http proxy tunnels: {http.Tunnels}"); // two MQTT connections and at least one upload
        Assert.True(socks.Tunnels >= 2, $"socks proxy tunnels: {socks.Tunnels}");
        Assert.True(Latency(report, "fileUpload")["count"]!.GetValue<long>() >= 1);
        var telemetry = report["telemetry"]!;
        Assert.True(telemetry["sent"]!.GetValue<long>() >= 4 * 3);
        Assert.Equal(telemetry["sent"]!.GetValue<long>(), telemetry["ingested"]!.GetValue<long>());

        // Proxy passwords appear nowhere: not in the reports (which quote the scenario), the debug log or the output.
        foreach (var file in Directory.GetFiles(outDir))
        {
            var text = await File.ReadAllTextAsync(file);
            foreach (var secret in new[] { "http-secret", "s0cks-secret", "guessed" })
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{Path.GetFileName(file)} contains a proxy password");
        }
        Assert.DoesNotContain("s0cks-secret", result.All);
        Assert.Contains("device socks-0: Idle -> Connecting", await File.ReadAllTextAsync(Path.Combine(outDir, "debug.log")));
    }

    private static void WritePem(string dir, string deviceId, X509Certificate2 certificate)
    {
        var key = (AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey() ?? certificate.GetRSAPrivateKey()!;
        var keyPem = key is ECDsa ec ? ec.ExportPkcs8PrivateKeyPem() : ((RSA)key).ExportPkcs8PrivateKeyPem();
        File.WriteAllText(Path.Combine(dir, deviceId + ".pem"), certificate.ExportCertificatePem() + "\n" + keyPem);
    }

    [Fact]
    public async Task X509_devices_with_their_own_certificates_connect_to_an_existing_hub()
    {
        await using var hub = await IoTHubEmulator.StartAsync(new HubEmulatorOptions { HostName = "localhost", MqttPort = 0, HttpsPort = 0 });
        var certs = Directory.CreateDirectory(Path.Combine(_dir, "certs")).FullName;
        // Pre-provisioned on the hub: one device by thumbprint (self-signed), one by the hub's CA (CA-signed).
        using (var selfSigned = EmulatorCertificates.CreateSelfSignedDeviceCertificate("own-0", TimeSpan.FromDays(1)))
        {
            hub.Registry.Put(new DeviceSpec("own-0", AuthenticationType: DeviceAuthenticationType.SelfSigned, PrimaryThumbprint: selfSigned.Thumbprint), null);
            WritePem(certs, "own-0", selfSigned);
        }
        using (var caSigned = hub.Certificates.CreateDeviceCertificate("own-1", TimeSpan.FromDays(1)))
        {
            hub.Registry.Put(new DeviceSpec("own-1", AuthenticationType: DeviceAuthenticationType.CertificateAuthority), null);
            WritePem(certs, "own-1", caSigned);
        }
        // Not on the hub yet: FleetSim registers these by the thumbprints of the certificates in the folder.
        for (var i = 0; i < 2; i++)
        {
            using var key = ECDsa.Create();
            using var certificate = new CertificateRequest($"CN=pat-{i}", key, HashAlgorithmName.SHA256)
                .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            WritePem(certs, $"pat-{i}", certificate);
        }
        await File.WriteAllLinesAsync(Path.Combine(_dir, "x509.txt"), ["HostName=localhost;DeviceId=own-0;x509=true", "HostName=localhost;DeviceId=own-1;x509=true"]);
        await File.WriteAllTextAsync(Path.Combine(_dir, "hub-ca.pem"), hub.CaCertificatePem);
        var path = Path.Combine(_dir, "x509.yaml");
        await File.WriteAllTextAsync(path, $$$"""
            name: own-certificates
            hub: {connectionString: "${FLEETSIM_TEST_SERVICE}", mqttPort: {{{hub.MqttPort}}}, httpsPort: {{{hub.HttpsPort}}}, trustedCa: hub-ca.pem}
            deviceGroups:
              - {name: listed, connectionStrings: x509.txt, certificates: certs, telemetry: {interval: 500ms}}
              - {name: pattern, count: 2, idPrefix: pat-, credential: x509, certificates: certs, transport: mqtt-ws, telemetry: {interval: 500ms}}
            duration: 3s
            """);
        var outDir = Path.Combine(_dir, "out");

        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(2), _dir, ["run", path, "--out", outDir, "--quiet"],
            new Dictionary<string, string> { ["FLEETSIM_TEST_SERVICE"] = hub.ServiceConnectionString });

        Assert.True(result.ExitCode == 0, result.All);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "report.json")))!;
        Assert.Equal(4, Latency(report, "connect")["count"]!.GetValue<long>());
        Assert.Equal(0, Latency(report, "connect")["failed"]!.GetValue<long>());
        // The run registered the two pattern devices and deleted them at its end; the pre-provisioned two stay.
        Assert.Equal(2, report["counters"]!["registry.created"]!.GetValue<long>());
        Assert.Equal(2, report["counters"]!["registry.deleted"]!.GetValue<long>());
        Assert.Equal(2, hub.Registry.Count);
        Assert.NotNull(hub.Registry.Get("own-0"));
        Assert.NotNull(hub.Registry.Get("own-1"));
        var sent = report["telemetry"]!["sent"]!.GetValue<long>();
        Assert.True(sent >= 4, $"only {sent} messages sent");
        Assert.Equal(sent, hub.Stats().Ingested);
    }
}
