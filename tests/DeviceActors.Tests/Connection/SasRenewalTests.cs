using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Tests.Fakes;
using FleetSim.Protocol;
using FleetSim.Metrics;

namespace FleetSim.DeviceActors.Tests.Connection;

public sealed class SasRenewalTests : DeviceTestKit
{
    private DeviceOptions ShortTokens(TelemetryOptions? telemetry = null) =>
        Options(telemetry) with { SasTtl = TimeSpan.FromSeconds(60), SasRenewalMargin = TimeSpan.FromSeconds(10) };

    [Fact]
    public void The_token_is_renewed_a_margin_before_expiry_by_reconnecting_with_a_new_one()
    {
        var device = StartedDevice(ShortTokens());
        var first = Io.ExpectMsg<ConnectCall>();
        first.Succeed();
        AwaitState(device, DeviceState.Running);

        // se is whole seconds, so renewal is due 49..50 s after the connect.
        Advance(device, TimeSpan.FromSeconds(48.9));
        Io.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Advance(device, TimeSpan.FromSeconds(1.2));
        Io.ExpectMsg<DisconnectCall>();
        var second = Io.ExpectMsg<ConnectCall>();
        var before = SasToken.Parse(first.Password!);
        var after = SasToken.Parse(second.Password!);
        Assert.True(after.ExpiresAt > before.ExpiresAt);
        Assert.True(after.IsSignatureValid(Key));
        second.Succeed(sessionPresent: true);

        AwaitState(device, DeviceState.Running);
        Assert.Equal(1, Metrics.Operation(Operations.SasRenewal).OkCount);
        Assert.Equal(0, Count(Counters.ConnectionLost));
        Assert.Equal(0, Metrics.Operation(Operations.Reconnect).OkCount);
        Assert.Equal(1, Metrics.Gauge(Gauges.DevicesConnected).Value);
    }

    [Fact]
    public void Renewal_waits_for_in_flight_telemetry_before_it_disconnects()
    {
        // The PUBACK may take up to 2 min before the device gives up on the connection; renewal comes first.
        var device = StartedDevice(ShortTokens(new TelemetryOptions { Interval = TimeSpan.FromHours(1) }) with { OperationTimeout = TimeSpan.FromMinutes(2) });
        Io.ExpectMsg<ConnectCall>().Succeed();
        var publish = Io.ExpectMsg<PublishCall>();

        Advance(device, TimeSpan.FromSeconds(50.1));
        AwaitState(device, DeviceState.Renewing);
        Io.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        publish.Ack();
        Io.ExpectMsg<DisconnectCall>();
        Io.ExpectMsg<ConnectCall>().Succeed();
        AwaitState(device, DeviceState.Running);
        Assert.Equal(1, Count(Counters.TelemetryAcked));
        Assert.Equal(0, Count(DeviceMetrics.TelemetryResent));
    }

    [Fact]
    public void Renewal_stops_waiting_for_acknowledgements_after_the_operation_timeout()
    {
        // The renewal's drain waits at most the operation timeout (which also bounds the PUBACK wait while running).
        var options = ShortTokens(new TelemetryOptions { Interval = TimeSpan.FromHours(1) }) with { OperationTimeout = TimeSpan.FromSeconds(60) };
        var device = StartedDevice(options);
        Io.ExpectMsg<ConnectCall>().Succeed();
        Io.ExpectMsg<PublishCall>(); // never acknowledged

        Advance(device, TimeSpan.FromSeconds(50.1));
        AwaitState(device, DeviceState.Renewing);
        Advance(device, TimeSpan.FromSeconds(59.9));
        Io.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Advance(device, TimeSpan.FromSeconds(0.1));
        Io.ExpectMsg<DisconnectCall>();
        Io.ExpectMsg<ConnectCall>().Succeed();
        Assert.Equal(1, Io.ExpectMsg<PublishCall>().Sequence); // re-sent on the renewed connection
    }

    [Fact]
    public void A_user_supplied_token_is_renewed_through_the_provider()
    {
        var resource = "hub.test/devices/d1";
        var firstToken = SasToken.Create(resource, Key, VirtualTime.Now.AddSeconds(60));
        var provider = new CountingProvider(resource);
        var options = Options() with { SasRenewalMargin = TimeSpan.FromSeconds(10), SasTokenProvider = provider };
        var device = StartedDevice(options, new DeviceIdentity("d1", 0, null, firstToken));

        var first = Io.ExpectMsg<ConnectCall>();
        Assert.Equal(firstToken, first.Password);
        first.Succeed();
        AwaitState(device, DeviceState.Running);
        Advance(device, TimeSpan.FromSeconds(50.1));

        Io.ExpectMsg<DisconnectCall>();
        var second = Io.ExpectMsg<ConnectCall>();
        Assert.Equal(provider.Issued.Single(), second.Password);
        Assert.NotEqual(firstToken, second.Password);
    }

    [Fact]
    public void An_expired_user_token_without_a_provider_stops_the_device_as_token_expired()
    {
        var expired = SasToken.Create("hub.test/devices/d1", Key, VirtualTime.Now.AddSeconds(-5));
        StartedDevice(Options(), new DeviceIdentity("d1", 0, null, expired));

        Io.ExpectMsg<ConnectCall>().Refuse(FailureKind.Unauthorized);
        Assert.Equal("tokenExpired", ExpectMsg<DeviceActor.DeviceStopped>().Reason);
    }

    [Fact]
    public void An_expiring_user_token_is_replaced_before_connecting_when_a_provider_exists()
    {
        var resource = "hub.test/devices/d1";
        var expired = SasToken.Create(resource, Key, VirtualTime.Now.AddSeconds(-5));
        var provider = new CountingProvider(resource);
        StartedDevice(Options() with { SasTokenProvider = provider }, new DeviceIdentity("d1", 0, null, expired));

        var call = Io.ExpectMsg<ConnectCall>();
        Assert.Equal(provider.Issued.Single(), call.Password);
    }

    [Fact]
    public void A_user_token_the_hub_refuses_is_replaced_once_through_the_provider()
    {
        var resource = "hub.test/devices/d1";
        var revoked = SasToken.Create(resource, Key, VirtualTime.Now.AddHours(1)); // valid by its se, revoked by the hub
        var provider = new CountingProvider(resource);
        StartedDevice(Options() with { SasTokenProvider = provider }, new DeviceIdentity("d1", 0, null, revoked));

        Io.ExpectMsg<ConnectCall>().Refuse(FailureKind.Unauthorized);
        var second = Io.ExpectMsg<ConnectCall>();
        Assert.Equal(provider.Issued.Single(), second.Password);
        second.Refuse(FailureKind.Unauthorized); // the new token is refused too: a real credential problem, no loop

        Assert.Equal("unauthorized", ExpectMsg<DeviceActor.DeviceStopped>().Reason);
        Assert.Single(provider.Issued);
    }

    [Fact]
    public void A_renewed_key_token_always_expires_later_than_the_one_before_even_within_the_same_second()
    {
        var device = StartedDevice(ShortTokens());
        var first = Io.ExpectMsg<ConnectCall>();
        first.Succeed();
        AwaitState(device, DeviceState.Running);

        first.Transport.DropConnection();
        Advance(device, TimeSpan.FromMilliseconds(100)); // the first backoff is at most 100 ms: mostly the same second
        var second = Io.ExpectMsg<ConnectCall>();

        Assert.True(SasToken.Parse(second.Password!).ExpiresAt > SasToken.Parse(first.Password!).ExpiresAt);
    }

    [Fact]
    public void A_device_with_an_X509_certificate_connects_without_a_password()
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=d1", key,
            System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var device = StartedDevice(Options(), new DeviceIdentity("d1", 0, null, ClientCertificate: cert));

        var call = Io.ExpectMsg<ConnectCall>();
        Assert.Null(call.Password);
        call.Succeed();
        AwaitState(device, DeviceState.Running);
        Advance(device, TimeSpan.FromHours(2)); // no token, so no renewal
        Io.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    private sealed class CountingProvider(string resource) : ISasTokenProvider
    {
        public List<string> Issued { get; } = [];

        public Task<string> GetTokenAsync(DeviceIdentity identity, CancellationToken cancellationToken)
        {
            var token = SasToken.Create(resource, Key, DateTimeOffset.UtcNow.AddHours(1));
            lock (Issued)
                Issued.Add(token);
            return Task.FromResult(token);
        }
    }
}
