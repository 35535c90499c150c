using System.Net.Security;
using System.Net.Sockets;
using FleetSim.DeviceActors.Transport;
using MQTTnet;
using MQTTnet.Exceptions;

namespace FleetSim.DeviceActors.Tests.Connection;

public sealed class RetryPolicyTests
{
    [Theory]
    [InlineData(0, 100)]
    [InlineData(3, 800)]
    [InlineData(7, 10_000)]
    [InlineData(40, 10_000)]
    public void Exponential_waits_are_uniform_between_zero_and_the_capped_ceiling(int attempt, int ceilingMs)
    {
        var random = new DeviceRandom(42);
        var waits = Enumerable.Range(0, 5000)
            .Select(_ => RetryPolicy.Exponential.NextDelay(attempt, FailureKind.Network, ref random).TotalMilliseconds).ToArray();

        Assert.All(waits, w => Assert.InRange(w, 0, ceilingMs));
        // Full jitter: the waits spread over the whole range, not around a point.
        Assert.InRange(waits.Min(), 0, ceilingMs * 0.01);
        Assert.InRange(waits.Max(), ceilingMs * 0.99, ceilingMs);
        Assert.InRange(waits.Average(), ceilingMs * 0.45, ceilingMs * 0.55);
    }

    [Fact]
    public void Throttled_waits_start_at_the_throttled_base_and_grow_to_its_cap()
    {
        var random = new DeviceRandom(7);
        var first = RetryPolicy.Exponential.NextDelay(0, FailureKind.Throttled, ref random);
        var later = Enumerable.Range(0, 1000).Select(_ => RetryPolicy.Exponential.NextDelay(5, FailureKind.Throttled, ref random)).ToArray();

        Assert.Equal(TimeSpan.FromSeconds(10), first);
        Assert.All(later, w => Assert.InRange(w, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60)));
        Assert.True(later.Max() > TimeSpan.FromSeconds(55));
    }

    [Fact]
    public void The_same_seed_gives_the_same_waits_and_devices_differ()
    {
        var a = DeviceRandom.ForDevice(1, 5);
        var b = DeviceRandom.ForDevice(1, 5);
        var c = DeviceRandom.ForDevice(1, 6);
        var wa = RetryPolicy.Exponential.NextDelay(6, FailureKind.Network, ref a);
        var wb = RetryPolicy.Exponential.NextDelay(6, FailureKind.Network, ref b);
        var wc = RetryPolicy.Exponential.NextDelay(6, FailureKind.Network, ref c);

        Assert.Equal(wa, wb);
        Assert.NotEqual(wa, wc);
    }

    [Theory]
    [InlineData(FailureKind.Unauthorized, false)]
    [InlineData(FailureKind.Untrusted, false)]
    [InlineData(FailureKind.ProxyUnauthorized, false)]
    [InlineData(FailureKind.Throttled, true)]
    [InlineData(FailureKind.Timeout, true)]
    [InlineData(FailureKind.Network, true)]
    [InlineData(FailureKind.Refused, true)]
    public void Only_credential_trust_and_proxy_credential_failures_are_never_retried(FailureKind kind, bool retried)
    {
        Assert.Equal(retried, RetryPolicy.Exponential.ShouldRetry(kind));
        Assert.False(RetryPolicy.None.ShouldRetry(kind));
    }

    [Theory]
    [InlineData(MqttClientConnectResultCode.NotAuthorized, FailureKind.Unauthorized)]
    [InlineData(MqttClientConnectResultCode.BadUserNameOrPassword, FailureKind.Unauthorized)]
    [InlineData(MqttClientConnectResultCode.ServerUnavailable, FailureKind.Throttled)]
    [InlineData(MqttClientConnectResultCode.UnsupportedProtocolVersion, FailureKind.Refused)]
    public void CONNACK_codes_are_classified_as_PROTOCOL_md_says(MqttClientConnectResultCode code, FailureKind kind) =>
        Assert.Equal(kind, FailureKinds.FromConnAck(code));

    [Fact]
    public void Exceptions_are_classified_through_their_inner_exceptions()
    {
        Assert.Equal(FailureKind.Timeout, FailureKinds.FromException(new MQTTnet.Adapter.MqttConnectingFailedException("x", new TimeoutException())));
        Assert.Equal(FailureKind.Network, FailureKinds.FromException(new IOException("reset", new SocketException())));
        Assert.Equal(FailureKind.Untrusted, FailureKinds.FromException(new ServerCertificateRejectedException("no")));
    }

    [Theory]
    [InlineData(MqttProxyErrorCode.ProxyAuthFailed, FailureKind.ProxyUnauthorized)]
    [InlineData(MqttProxyErrorCode.ProxyAuthMethodRejected, FailureKind.ProxyUnauthorized)]
    [InlineData(MqttProxyErrorCode.ProxyUnreachable, FailureKind.Network)]
    [InlineData(MqttProxyErrorCode.ProxyConnectionRefused, FailureKind.Network)]
    [InlineData(MqttProxyErrorCode.ProxyProtocolError, FailureKind.Network)]
    public void Proxy_failures_wrapped_by_MQTTnet_are_classified_by_their_code(MqttProxyErrorCode code, FailureKind kind)
    {
        var wrapped = new MQTTnet.Adapter.MqttConnectingFailedException("connect failed", new MqttProxyException(code, "proxy said no", "proxy:3128"));
        Assert.Equal(kind, FailureKinds.FromException(wrapped));
    }

    [Fact]
    public void A_407_from_an_http_client_proxy_tunnel_is_proxyUnauthorized()
    {
        var error = new System.Net.WebSockets.WebSocketException("Unable to connect",
            new HttpRequestException(HttpRequestError.ProxyTunnelError, "407", statusCode: System.Net.HttpStatusCode.ProxyAuthenticationRequired));
        Assert.Equal(FailureKind.ProxyUnauthorized, FailureKinds.FromException(error));
        Assert.Equal("proxyUnauthorized", FailureKind.ProxyUnauthorized.Label());
    }
}
