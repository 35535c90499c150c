using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using FleetSim.DeviceActors.Transport;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors.Tests.Integration;

/// <summary>
/// The name a device's TLS handshake gives when it dials the hub by address: the hub's host name (SNI, so .NET can reuse
/// its TLS context), while the certificate is still checked against the address dialled.
/// </summary>
public sealed class TlsNameTests : IDisposable
{
    private const string Key = "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ==";
    private readonly TestCertificates _certificates = TestCertificates.Create();

    public void Dispose() => _certificates.Dispose();

    [Theory]
    [InlineData("myhub.azure-devices.net", "127.0.0.1", "myhub.azure-devices.net")] // dialled by address: the hub's name
    [InlineData("myhub.azure-devices.net", "::1", "myhub.azure-devices.net")]
    [InlineData("myhub.azure-devices.net", "gateway.local", "gateway.local")]        // dialled by name: that name
    [InlineData("10.0.0.5", "127.0.0.1", "127.0.0.1")]                                // no name to give: the address
    public void The_handshake_names_the_hub_when_the_device_dials_an_address(string hub, string dialled, string expected)
    {
        Assert.Equal(expected, MqttDeviceTransport.TlsName(hub, dialled));
    }

    [Fact]
    public async Task A_device_dialling_the_hub_by_address_sends_the_hub_name_as_SNI()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var sni = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
            try
            {
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificateSelectionCallback = (_, name) =>
                    {
                        sni.TrySetResult(name);
                        return _certificates.Server;
                    },
                });
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
            {
                // the device may give up on this server; the name it sent is what the test is about
            }
        });
        var options = new DeviceOptions
        {
            HostName = "localhost",
            EndpointHost = "127.0.0.1",
            EndpointPort = port,
            TrustedCa = _certificates.Ca,
            OperationTimeout = TimeSpan.FromSeconds(5),
        };
        using var transport = new MqttDeviceTransportFactory().Create(new DeviceIdentity("d1", 0, Key), options, new DeviceTopics("d1"));

        var connect = transport.ConnectAsync(SasToken.Create("localhost/devices/d1", Key, DateTimeOffset.UtcNow.AddHours(1)));

        Assert.Equal("localhost", await sni.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        await Assert.ThrowsAnyAsync<Exception>(() => connect); // no MQTT behind this TLS server
        listener.Stop();
        await server.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void The_certificate_must_name_the_address_dialled_when_the_handshake_named_the_hub()
    {
        var validator = ServerCertificateValidator.For(new DeviceOptions { HostName = "localhost", TrustedCa = _certificates.Ca });
        // .NET checked the name the handshake gave ("localhost"); the certificate names localhost and 127.0.0.1.
        Assert.Null(validator.Check(_certificates.Server, SslPolicyErrors.RemoteCertificateChainErrors, "127.0.0.1"));
        Assert.Null(validator.Check(_certificates.Server, SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateChainErrors, "127.0.0.1"));
        Assert.Equal("the host name does not match the certificate",
            validator.Check(_certificates.Server, SslPolicyErrors.RemoteCertificateChainErrors, "127.0.0.2"));
        // Dialled by name, .NET's own check decides.
        Assert.Equal("the host name does not match the certificate",
            validator.Check(_certificates.Server, SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateChainErrors));
        using var otherCa = TestCertificates.Create("Another CA");
        Assert.Equal("it does not chain to the trusted CA",
            validator.Check(otherCa.Server, SslPolicyErrors.RemoteCertificateChainErrors, "127.0.0.1"));
    }
}
