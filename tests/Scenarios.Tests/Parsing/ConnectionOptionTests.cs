using System.Net.Security;
using System.Security.Authentication;
using FleetSim.DeviceActors.Proxy;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Parsing;
using FleetSim.Scenarios.Running;

namespace FleetSim.Scenarios.Tests.Parsing;

/// <summary>
/// The client options of the SDKs' surface, selected from a scenario: gateway host, TLS versions and cipher suites,
/// server_verification_cert, proxy, per-device debug logging, devices from connection strings, and a hub on other ports.
/// </summary>
public sealed class ConnectionOptionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-conn-").FullName;

    public ConnectionOptionTests() => SchemaAgreementTests.WriteConnectionFiles(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string ScenarioPath => Path.Combine(_dir, "s.yaml");

    private ScenarioLoadResult Load(string yaml, params string[] overrides) =>
        ScenarioLoader.LoadFromText(yaml, ScenarioPath, overrides, name => Loads.Environment.GetValueOrDefault(name));

    private Scenario Ok(string yaml, params string[] overrides)
    {
        var result = Load(yaml, overrides);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        return result.Scenario!;
    }

    private ScenarioError One(string yaml)
    {
        var result = Load(yaml);
        Assert.False(result.Success, "expected an error, the scenario loaded");
        Assert.True(result.Errors.Count == 1, "expected one error, found:\n" + string.Join("\n", result.Errors));
        return result.Errors[0];
    }

    private static string Group(string keys) => $"name: g\ndeviceGroups:\n  - {{name: a, count: 3, {keys}}}\nduration: 2s\n";

    private static readonly DeviceEndpoint Embedded = new("localhost", "127.0.0.1", 8883, 443, null);

    private static DeviceActors.DeviceOptions OptionsOf(Scenario scenario, int group = 0) =>
        FleetPlanBuilder.Options(scenario.DeviceGroups[group], Embedded, 1, TimeProvider.System);

    [Fact]
    public void Connection_options_reach_the_devices_options()
    {
        var scenario = Ok(Group("gatewayHostName: gw.example, tls: {versions: [\"1.2\"], cipherSuites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256], trustedCa: ca.pem}, "
            + "proxy: {url: \"socks5://127.0.0.9:1080\", username: u, password: p}, debugDevices: [a-1]"));
        var options = OptionsOf(scenario);

        Assert.Equal("gw.example", options.EndpointHost);
        Assert.Equal("localhost", options.HostName); // the SAS token still names the hub
        Assert.Equal(SslProtocols.Tls12, options.TlsProtocols);
        Assert.Equal([TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256], options.CipherSuites!);
        Assert.Equal("CN=sink CA", options.TrustedCa!.Subject);
        Assert.Equal(new ProxyOptions(ProxyKind.Socks5, "127.0.0.9", 1080, "u", "p"), options.Proxy);
        Assert.Equal(["a-1"], options.DebugDeviceIds);
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void Without_connection_options_devices_use_the_hub_and_the_os_defaults()
    {
        var options = OptionsOf(Ok(Group("credential: symmetricKey")));
        Assert.Equal("127.0.0.1", options.EndpointHost);
        Assert.Equal(SslProtocols.None, options.TlsProtocols);
        Assert.Null(options.CipherSuites);
        Assert.Null(options.TrustedCa);
        Assert.Null(options.Proxy);
        Assert.Empty(options.DebugDeviceIds);
    }

    // The last argument is the text the error must point at (its first occurrence in the group's line).
    [Theory]
    [InlineData("tls: {versions: [\"1.1\"]}", "'1.1' is not a TLS version", "\"1.1\"")]
    [InlineData("tls: {cipherSuites: [TLS_AES_128_GCM_SHA265]}", "did you mean 'TLS_AES_128_GCM_SHA256'?", "TLS_AES")]
    [InlineData("tls: {trustedCa: devices.txt}", "holds no PEM certificate", "devices.txt")]
    [InlineData("tls: {trustedCa: missing.pem}", "cannot read", "missing.pem")]
    [InlineData("proxy: {url: \"ftp://p:21\"}", "is not an http://, socks5:// or socks4:// URL", "\"ftp")]
    [InlineData("proxy: {url: \"socks4://p:1080\", username: u, password: x}", "SOCKS4 has no password", "{url")]
    [InlineData("proxy: {url: \"http://u:pw@p:3128\"}", "credentials in the URL are not accepted", "\"http")]
    [InlineData("proxy: {url: \"http://p\"}", "must be just a scheme, a host and a port", "\"http")]
    [InlineData("proxy: {url: \"http://p:3128\", password: x}", "proxy.password needs proxy.username", "password")]
    [InlineData("proxy: {username: u}", "missing required key 'url'", "{username")]
    [InlineData("gatewayHostName: \"https://gw:443\"", "is not a host name or IP address", "\"https")]
    [InlineData("debugDevices: [a-7]", "'a-7' is not a device of group 'a'", "a-7")]
    public void Bad_connection_options_are_positioned_errors(string keys, string message, string at)
    {
        var yaml = Group(keys);
        var error = One(yaml);
        Assert.Contains(message, error.Message + " " + error.Hint, StringComparison.Ordinal);
        Assert.Equal(ScenarioPath, error.File);
        Assert.Equal(3, error.Line);
        Assert.Equal(yaml.Split('\n')[2].IndexOf(at, StringComparison.Ordinal) + 1, error.Column);
    }

    [Theory]
    [InlineData("socks4://127.0.0.9:1080")]
    [InlineData("socks4a://127.0.0.9:1080")]
    public void A_socks4_proxy_takes_a_user_id(string url)
    {
        var options = OptionsOf(Ok(Group($"proxy: {{url: \"{url}\", username: plant-7}}")));
        Assert.Equal(new ProxyOptions(ProxyKind.Socks4, "127.0.0.9", 1080, "plant-7"), options.Proxy);
    }

    [Fact]
    public void A_proxy_password_never_appears_in_an_error()
    {
        var error = One(Group("proxy: {url: \"http://p:99999\", username: u, password: hunter2}"));
        Assert.DoesNotContain("hunter2", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Devices_from_connection_strings_take_their_ids_and_count_from_the_file()
    {
        var scenario = Ok("name: cs\ndeviceGroups:\n  - {name: listed, connectionStrings: devices.txt}\nduration: 2s\n");
        var group = scenario.DeviceGroups[0];

        Assert.Equal(3, group.Count);
        Assert.Equal(["listed-0", "listed-1", "listed-2"], Enumerable.Range(0, 3).Select(group.DeviceId));
        Assert.True(scenario.TryFindDevice("listed-2", out _, out var index));
        Assert.Equal(2, index);
        Assert.False(scenario.TryFindDevice("listed-3", out _, out _));
        Assert.Equal(Path.Combine(_dir, "devices.txt"), group.ConnectionStrings!.Path);
        Assert.DoesNotContain("a2V5", group.ConnectionStrings.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_listed_group_may_use_fewer_devices_than_listed_and_never_grows_past_the_list()
    {
        var scenario = Ok("name: cs\ndeviceGroups:\n  - {name: listed, connectionStrings: devices.txt, count: 2}\nduration: 2s\n");
        Assert.Equal(2, scenario.DeviceGroups[0].Count);
        Assert.Equal(3, scenario.Scale(10).DeviceGroups[0].Count);
        Assert.Equal(1, scenario.Scale(0.1).DeviceGroups[0].Count);
    }

    [Theory]
    [InlineData("count: 4", "count is 4, but", "4")]
    [InlineData("idPrefix: x-", "idPrefix cannot be used with connectionStrings", "idPrefix")]
    [InlineData("credential: x509", "credential cannot be used with connectionStrings", "credential")]
    public void A_listed_group_refuses_what_the_file_decides(string keys, string message, string at)
    {
        var line = $"  - {{name: listed, connectionStrings: devices.txt, {keys}}}";
        var error = One($"name: cs\ndeviceGroups:\n{line}\nduration: 2s\n");
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal((3, line.IndexOf(at, StringComparison.Ordinal) + 1), (error.Line, error.Column));
    }

    [Fact]
    public void A_group_needs_a_count_unless_connection_strings_list_its_devices()
    {
        var error = One("name: cs\ndeviceGroups:\n  - {name: a}\nduration: 2s\n");
        Assert.Contains("missing required key 'count'", error.Message, StringComparison.Ordinal);
    }

    // The last argument is the part of the line the error must point at ("" for the start of the line's text).
    [Theory]
    [InlineData("HostName=sink.example;DeviceId=m;ModuleId=mod;SharedAccessKey=a2V5", "module identities are not supported", "ModuleId=")]
    [InlineData("HostName=sink.example;DeviceId=x;x509=true", "carries no certificate", "x509=")]
    [InlineData("HostName=sink.example;DeviceId=t;SharedAccessSignature=SharedAccessSignature sr=sink.example%2Fdevices%2Ft&sig=c2ln&se=9999999999", "no SharedAccessKey", "SharedAccessSignature=")]
    [InlineData("HostName=sink.example;DeviceId=listed-0;SharedAccessKey=a2V5", "is listed twice", "DeviceId=")]
    [InlineData("HostName=other.example;DeviceId=o;SharedAccessKey=a2V5", "names hub 'other.example', line 2 names 'sink.example'", "HostName=")]
    [InlineData("HostName=sink.example;DeviceId=g;SharedAccessKey=a2V5;GatewayHostName=gw", "has GatewayHostName 'gw'", "GatewayHostName=")]
    [InlineData("  HostName=sink.example;DeviceId=k;SharedAccessKey=not base64!", "SharedAccessKey is not base64", "")]
    [InlineData("HostName=sink.example;DeviceId=bad#id;SharedAccessKey=a2V5", "is not a valid device id", "DeviceId=")]
    [InlineData("HostName=sink.example;DeviceId=q;SharedAccessKey=a2V5;GatewayHostName=gw:99999", "is not a host name, optionally with :PORT", "GatewayHostName=")]
    public void Bad_connection_strings_are_errors_at_their_line_and_column_in_the_file(string line, string message, string at)
    {
        File.AppendAllLines(Path.Combine(_dir, "devices.txt"), [line]);
        var error = One("name: cs\ndeviceGroups:\n  - {name: listed, connectionStrings: devices.txt}\nduration: 2s\n");

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(Path.Combine(_dir, "devices.txt"), error.File);
        var expectedColumn = at.Length == 0 ? line.Length - line.TrimStart().Length + 1 : line.IndexOf(at, StringComparison.Ordinal) + 1;
        Assert.Equal((6, expectedColumn), (error.Line, error.Column)); // line 6: after the five lines WriteConnectionFiles wrote
        Assert.DoesNotContain("a2V5", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("sig=c2ln", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_connection_strings_file_is_an_error_at_the_key()
    {
        File.WriteAllText(Path.Combine(_dir, "empty.txt"), "# nothing yet\n\n");
        var error = One("name: cs\ndeviceGroups:\n  - {name: listed, connectionStrings: empty.txt}\nduration: 2s\n");
        Assert.Contains("holds no connection string", error.Message, StringComparison.Ordinal);
        Assert.Equal((3, "  - {name: listed, connectionStrings: ".Length + 1), (error.Line, error.Column));
    }

    [Fact]
    public void Listed_devices_must_belong_to_the_hub_the_scenario_names()
    {
        var error = One("name: cs\nhub: ${FLEETSIM_TEST_HUB}\ndeviceGroups:\n  - {name: listed, connectionStrings: devices.txt}\nduration: 2s\n");
        Assert.Contains("names hub 'sink.example', but the scenario's hub is 'test.azure-devices.net'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_listed_device_cannot_also_belong_to_a_pattern_group()
    {
        var error = One("name: cs\ndeviceGroups:\n  - {name: listed, connectionStrings: devices.txt}\n  - {name: more, count: 5, idPrefix: listed-}\nduration: 2s\n");
        Assert.Contains("device 'listed-0' of group 'listed' is also a device of group 'more'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gateway_host_name_comes_from_the_connection_strings_unless_the_scenario_sets_one()
    {
        File.WriteAllText(Path.Combine(_dir, "gw.txt"), "HostName=sink.example;DeviceId=g1;SharedAccessKey=a2V5;GatewayHostName=edge.local\n");
        var fromFile = Ok("name: cs\ndeviceGroups:\n  - {name: listed, connectionStrings: gw.txt}\nduration: 2s\n");
        Assert.Equal("edge.local", OptionsOf(fromFile).EndpointHost);
        var overridden = Ok("name: cs\ndeviceGroups:\n  - {name: listed, connectionStrings: gw.txt, gatewayHostName: lb.local}\nduration: 2s\n");
        Assert.Equal("lb.local", OptionsOf(overridden).EndpointHost);
    }

    [Fact]
    public void A_gateway_with_a_port_in_the_connection_strings_moves_mqtt_to_that_port()
    {
        // The form the README gives the official SDKs for `fleetsim hub --mqtt-port`: GatewayHostName=localhost:PORT.
        File.WriteAllText(Path.Combine(_dir, "port.txt"), "HostName=sink.example;DeviceId=p1;SharedAccessKey=a2V5;GatewayHostName=localhost:18883\n");
        var options = OptionsOf(Ok("name: cs\ndeviceGroups:\n  - {name: listed, connectionStrings: port.txt}\nduration: 2s\n"));
        Assert.Equal(("localhost", 18883), (options.EndpointHost, options.MqttPort));
        var ws = OptionsOf(Ok("name: cs\ndeviceGroups:\n  - {name: listed, connectionStrings: port.txt, transport: mqtt-ws}\nduration: 2s\n"));
        Assert.Equal(("localhost", 443), (ws.EndpointHost, ws.MqttPort));
    }

    [Fact]
    public void A_hub_named_by_connection_string_may_give_its_ports_and_ca()
    {
        var hub = Assert.IsType<ConnectionStringHub>(Ok("name: h\nhub: {connectionString: \"${FLEETSIM_TEST_HUB}\", mqttPort: 18883, httpsPort: 18443, trustedCa: ca.pem}\ndevices: {count: 1}\nduration: 1s\n").Hub);
        Assert.Equal((18883, 18443), (hub.MqttPort, hub.HttpsPort));
        Assert.Contains("BEGIN CERTIFICATE", hub.TrustedCa!.Pem, StringComparison.Ordinal);

        var defaults = Assert.IsType<ConnectionStringHub>(Ok("name: h\nhub: ${FLEETSIM_TEST_HUB}\ndevices: {count: 1}\nduration: 1s\n").Hub);
        Assert.Equal((8883, 443, (TrustedCaFile?)null), (defaults.MqttPort, defaults.HttpsPort, defaults.TrustedCa));
    }

    [Fact]
    public void Hub_ports_do_not_apply_to_the_embedded_hub()
    {
        var error = One("name: h\nhub: {embedded: {}, mqttPort: 1883}\ndevices: {count: 1}\nduration: 1s\n");
        Assert.Contains("hub.mqttPort applies only to a hub named by connectionString", error.Message, StringComparison.Ordinal);
        Assert.Equal((2, "hub: {embedded: {}, ".Length + 1), (error.Line, error.Column));
    }

    [Fact]
    public void Auto_connect_and_ensure_desired_properties_reach_the_devices_options()
    {
        var defaults = OptionsOf(Ok(Group("retry: {policy: none}, desired: {reportBack: true}")));
        Assert.True(defaults.AutoConnect);
        Assert.True(defaults.Twin!.EnsureDesiredProperties);

        var off = OptionsOf(Ok(Group("retry: {policy: none, autoConnect: false}, desired: {ensureDesiredProperties: false}")));
        Assert.False(off.AutoConnect);
        Assert.False(off.Twin!.EnsureDesiredProperties);
    }

    [Fact]
    public void Auto_connect_is_an_error_with_a_retrying_policy()
    {
        var error = One(Group("retry: {policy: exponential, autoConnect: false}"));
        Assert.Contains("retry.autoConnect does not apply to policy exponential", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Writes {id}.pem (certificate and key) for each id, or {id}.cert.pem + {id}.key.pem when <paramref name="split"/>.</summary>
    private string WriteCertificates(string folder, bool split, params string[] ids)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_dir, folder)).FullName;
        foreach (var id in ids)
        {
            using var key = System.Security.Cryptography.ECDsa.Create();
            using var certificate = new System.Security.Cryptography.X509Certificates.CertificateRequest($"CN={id}", key, System.Security.Cryptography.HashAlgorithmName.SHA256)
                .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            if (split)
            {
                File.WriteAllText(Path.Combine(dir, id + ".cert.pem"), certificate.ExportCertificatePem());
                File.WriteAllText(Path.Combine(dir, id + ".key.pem"), key.ExportPkcs8PrivateKeyPem());
            }
            else
            {
                File.WriteAllText(Path.Combine(dir, id + ".pem"), certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem());
            }
        }
        return dir;
    }

    [Fact]
    public void X509_devices_may_bring_their_own_certificates_in_either_file_form()
    {
        var dir = WriteCertificates("certs", split: false, "a-0", "a-1");
        WriteCertificates("certs", split: true, "a-2");
        var group = Ok(Group("credential: x509, certificates: certs")).DeviceGroups[0];

        Assert.Equal(dir, group.Certificates!.Path);
        for (var i = 0; i < 3; i++)
        {
            using var certificate = group.Certificates.Load(group.DeviceId(i));
            Assert.True(certificate.HasPrivateKey);
            Assert.Equal($"CN=a-{i}", certificate.Subject);
        }
    }

    [Fact]
    public void A_certificates_folder_missing_a_device_is_an_error_naming_it()
    {
        WriteCertificates("some", split: false, "a-0");
        var error = One(Group("credential: x509, certificates: some"));
        Assert.Contains("has no certificate for 2 of 3 devices, e.g. 'a-1'", error.Message, StringComparison.Ordinal);
        Assert.Contains("a-1.pem", error.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Certificates_apply_only_to_x509_devices()
    {
        WriteCertificates("certs", split: false, "a-0", "a-1", "a-2");
        var error = One(Group("certificates: certs"));
        Assert.Contains("certificates apply only to x509 devices", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_certificate_file_without_its_key_is_an_error_at_validation()
    {
        var dir = WriteCertificates("nokey", split: false, "a-0", "a-1", "a-2");
        var pem = File.ReadAllText(Path.Combine(dir, "a-0.pem"));
        File.WriteAllText(Path.Combine(dir, "a-0.pem"), pem[..(pem.IndexOf("-----END CERTIFICATE-----", StringComparison.Ordinal) + 25)]);
        var error = One(Group("credential: x509, certificates: nokey"));
        Assert.Contains("the certificate of device 'a-0'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void X509_connection_strings_with_a_certificates_folder_make_an_x509_group()
    {
        WriteCertificates("listed-certs", split: false, "x-0", "x-1");
        File.WriteAllLines(Path.Combine(_dir, "x509.txt"), ["HostName=sink.example;DeviceId=x-0;x509=true", "HostName=sink.example;DeviceId=x-1;x509=true"]);
        var group = Ok("name: cs\ndeviceGroups:\n  - {name: listed, connectionStrings: x509.txt, certificates: listed-certs}\nduration: 2s\n").DeviceGroups[0];

        Assert.Equal(CredentialKind.X509, group.Credential);
        Assert.True(group.ConnectionStrings!.UsesX509);
        Assert.Equal(2, group.Count);

        File.AppendAllLines(Path.Combine(_dir, "x509.txt"), ["HostName=sink.example;DeviceId=k-0;SharedAccessKey=a2V5"]);
        var mixed = One("name: cs\ndeviceGroups:\n  - {name: listed, connectionStrings: x509.txt, certificates: listed-certs}\nduration: 2s\n");
        Assert.Contains("the group has certificates, but this connection string is not x509=true", mixed.Message, StringComparison.Ordinal);
    }
}
