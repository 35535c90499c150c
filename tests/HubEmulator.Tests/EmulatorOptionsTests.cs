using System.Security.Cryptography.X509Certificates;
using FleetSim.Protocol;

namespace FleetSim.HubEmulator.Tests;

public sealed class EmulatorOptionsTests
{
    [Fact]
    public async Task Data_directory_gets_ca_pem_and_a_fixed_service_key_gives_a_stable_connection_string()
    {
        var dir = Directory.CreateTempSubdirectory("fleetsim-hub-test-").FullName;
        var key = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
        try
        {
            await using (var hub = await TestHub.StartAsync(o =>
            {
                o.DataDirectory = dir;
                o.ServiceKey = key;
            }))
            {
                Assert.Equal(Path.Combine(dir, "ca.pem"), hub.Hub.CaCertificatePath);
                using var ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(hub.Hub.CaCertificatePath));
                Assert.Equal(hub.Hub.Certificates.Ca.Thumbprint, ca.Thumbprint);
                Assert.Equal($"HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey={key}", hub.Hub.ServiceConnectionString);
            }

            Assert.True(File.Exists(Path.Combine(dir, "ca.pem")), "a caller's data directory is left in place");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Host_name_is_what_devices_must_name_and_the_server_certificate_covers_it()
    {
        await using var hub = await TestHub.StartAsync(o => o.HostName = "hub.fleetsim.test");
        var device = hub.Hub.Registry.Add("d1");
        var token = SasToken.Create("hub.fleetsim.test/devices/d1", device.PrimaryKey!, DateTimeOffset.UtcNow.AddHours(1));

        Assert.Equal(0, await hub.RawConnectAsync("d1", MqttUsername.Build("hub.fleetsim.test", "d1"), token));
        Assert.Equal(5, await hub.RawConnectAsync("d1", MqttUsername.Build("localhost", "d1"), token));
        var san = hub.Hub.Certificates.Server.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Contains("hub.fleetsim.test", san.EnumerateDnsNames());
        Assert.Contains("localhost", san.EnumerateDnsNames());
    }

    [Theory]
    [InlineData("HostName", "bad host")]
    [InlineData("MqttPort", "70000")]
    [InlineData("ServiceKey", "not-base64")]
    [InlineData("SasExpiryGrace", "-1")]
    [InlineData("RecordTelemetryPerDevice", "-1")]
    public async Task Bad_options_are_refused_with_a_message_naming_the_option(string option, string value)
    {
        var options = new HubEmulatorOptions { MqttPort = 0, HttpsPort = 0 };
        switch (option)
        {
            case "HostName": options.HostName = value; break;
            case "MqttPort": options.MqttPort = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case "ServiceKey": options.ServiceKey = value; break;
            case "SasExpiryGrace": options.SasExpiryGrace = TimeSpan.FromSeconds(-1); break;
            case "RecordTelemetryPerDevice": options.RecordTelemetryPerDevice = -1; break;
        }

        var error = await Assert.ThrowsAsync<ArgumentException>(() => IoTHubEmulator.StartAsync(options));
        Assert.Contains(option, error.Message, StringComparison.Ordinal);
    }
}
