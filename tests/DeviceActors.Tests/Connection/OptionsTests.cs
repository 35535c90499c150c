using System.Net.Security;
using FleetSim.DeviceActors.Transport;

namespace FleetSim.DeviceActors.Tests.Connection;

public sealed class OptionsTests
{
    [Fact]
    public void Options_with_bad_values_are_rejected_with_specific_messages()
    {
        var options = new DeviceOptions
        {
            HostName = "",
            KeepAlive = TimeSpan.FromSeconds(2000),
            SasTtl = TimeSpan.FromSeconds(60),
            SasRenewalMargin = TimeSpan.FromSeconds(60),
            Telemetry = new() { InFlightWindow = 0 },
            Retry = RetryPolicy.Exponential with { Cap = TimeSpan.FromMilliseconds(10) },
        };

        var errors = options.Validate();

        Assert.Contains(errors, e => e.Contains("HostName is required"));
        Assert.Contains(errors, e => e.Contains("keep-alive must be 0..1177 s"));
        Assert.Contains(errors, e => e.Contains("renewal margin (60 s) must be at least 0 and below the TTL (60 s)"));
        Assert.Contains(errors, e => e.Contains("in-flight window must be 1..65535 (found 0)"));
        Assert.Contains(errors, e => e.Contains("retry cap"));
        Assert.Throws<ArgumentException>(() => new DeviceGroup(options, new DeviceMetrics(new FleetSim.Metrics.FleetMetrics())));
    }

    [Fact]
    public void Default_options_are_valid_and_use_IoT_Hub_ports()
    {
        var options = new DeviceOptions { HostName = "hub" };
        Assert.Empty(options.Validate());
        Assert.Equal(8883, options.MqttPort);
        Assert.Equal(443, (options with { Transport = DeviceTransportKind.MqttWebSockets }).MqttPort);
        Assert.Equal("gw", (options with { EndpointHost = "gw" }).MqttHost);
    }

    [Fact]
    public void A_certificate_for_another_host_name_is_rejected_even_from_the_trusted_CA()
    {
        using var certificates = Integration.TestCertificates.Create();
        var validator = ServerCertificateValidator.For(new DeviceOptions { HostName = "hub", TrustedCa = certificates.Ca });

        Assert.Null(validator.Check(certificates.Server, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.Contains("host name", validator.Check(certificates.Server, SslPolicyErrors.RemoteCertificateNameMismatch));
        using var other = Integration.TestCertificates.Create("Other");
        Assert.Contains("trusted CA", validator.Check(other.Server, SslPolicyErrors.RemoteCertificateChainErrors));
    }

    [Fact]
    public void A_trusted_CA_is_read_from_PEM_and_garbage_is_a_clear_error()
    {
        using var certificates = Integration.TestCertificates.Create();
        using var ca = DeviceOptions.CaFromPem(certificates.Ca.ExportCertificatePem());
        Assert.Equal(certificates.Ca.Thumbprint, ca.Thumbprint);

        var error = Assert.Throws<FormatException>(() => DeviceOptions.CaFromPem("not a certificate"));
        Assert.Contains("not a PEM certificate", error.Message);
    }

    [Fact]
    public void Behaviour_options_are_checked_too()
    {
        var options = new DeviceOptions
        {
            HostName = "hub",
            Methods = new() { Handlers = new Dictionary<string, Methods.MethodBehavior> { ["a/b"] = new(200, null, TimeSpan.Zero) } },
            C2d = new() { AckDelay = TimeSpan.FromSeconds(-1) },
            Twin = new() { ReportedInterval = TimeSpan.FromSeconds(5) },
            FileUpload = new() { BlobNamePrefix = "" },
        };

        var errors = options.Validate();

        Assert.Contains(errors, e => e.Contains("method name 'a/b'"));
        Assert.Contains(errors, e => e.Contains("C2D ack delay"));
        Assert.Contains(errors, e => e.Contains("no reported patch"));
        Assert.Contains(errors, e => e.Contains("blob name prefix"));
    }

    [Fact]
    public void A_device_is_made_from_its_connection_string_and_prints_without_its_key()
    {
        var (identity, host, gateway) = DeviceIdentity.FromConnectionString(
            "HostName=hub.example.net;DeviceId=d9;SharedAccessKey=c2VjcmV0;GatewayHostName=edge.local", 9);

        Assert.Equal(new DeviceIdentity("d9", 9, "c2VjcmV0"), identity);
        Assert.Equal("hub.example.net", host);
        Assert.Equal("edge.local", gateway);
        Assert.DoesNotContain("c2VjcmV0", identity.ToString());
    }

    [Fact]
    public void Connection_strings_a_device_cannot_use_are_clear_errors()
    {
        var x509 = Assert.Throws<FormatException>(() => DeviceIdentity.FromConnectionString("HostName=h;DeviceId=d;x509=true", 0));
        Assert.Contains("no client certificate", x509.Message);
        var module = Assert.Throws<FormatException>(() => DeviceIdentity.FromConnectionString("HostName=h;DeviceId=d;ModuleId=m;SharedAccessKey=a2V5", 0));
        Assert.Contains("module", module.Message);
        Assert.Throws<FormatException>(() => DeviceIdentity.FromConnectionString("DeviceId=d", 0));
    }
}
