using System.Net;
using System.Net.Sockets;
using MQTTnet;
using MQTTnet.Exceptions;
using FleetSim.DeviceActors.Transport;

namespace FleetSim.DeviceActors;

/// <summary>Why a connect attempt or a connection failed, classified as PROTOCOL.md section 6 says.</summary>
public enum FailureKind
{
    /// <summary>CONNACK 4/5 (bad or expired credentials, disabled device): never retried.</summary>
    Unauthorized,

    /// <summary>CONNACK 3 (server unavailable), server busy, quota or rate exceeded: retried with longer waits.</summary>
    Throttled,

    /// <summary>No answer in time: retried.</summary>
    Timeout,

    /// <summary>Socket, TLS or broken connection: retried.</summary>
    Network,

    /// <summary>The hub refused the CONNECT for another reason (protocol version, client id): retried.</summary>
    Refused,

    /// <summary>The TLS server certificate was not trusted: never retried (configuration error).</summary>
    Untrusted,

    /// <summary>
    /// The proxy refused the credentials or every authentication method offered (HTTP 407, SOCKS5 method 0xFF or
    /// RFC 1929 failure): never retried (configuration error). Other proxy failures are <see cref="Network"/>.
    /// </summary>
    ProxyUnauthorized,
}

public static class FailureKinds
{
    public static bool IsRetryable(this FailureKind kind) => kind is not (FailureKind.Unauthorized or FailureKind.Untrusted or FailureKind.ProxyUnauthorized);

    /// <summary>The short, stable label used in metrics and in the Stopped reason.</summary>
    public static string Label(this FailureKind kind) => kind switch
    {
        FailureKind.Unauthorized => "unauthorized",
        FailureKind.Throttled => "throttled",
        FailureKind.Timeout => "timeout",
        FailureKind.Network => "network",
        FailureKind.Refused => "refused",
        FailureKind.Untrusted => "untrustedServer",
        FailureKind.ProxyUnauthorized => "proxyUnauthorized",
        _ => "unknown",
    };

    /// <summary>Classifies a CONNACK result code other than success.</summary>
    public static FailureKind FromConnAck(MqttClientConnectResultCode code) => code switch
    {
        MqttClientConnectResultCode.NotAuthorized or MqttClientConnectResultCode.BadUserNameOrPassword
            or MqttClientConnectResultCode.Banned or MqttClientConnectResultCode.BadAuthenticationMethod => FailureKind.Unauthorized,
        MqttClientConnectResultCode.ServerUnavailable or MqttClientConnectResultCode.ServerBusy
            or MqttClientConnectResultCode.QuotaExceeded or MqttClientConnectResultCode.ConnectionRateExceeded => FailureKind.Throttled,
        _ => FailureKind.Refused,
    };

    /// <summary>
    /// Classifies an exception from a connect attempt or an operation on a connection, looking through the
    /// exceptions MQTTnet, ClientWebSocket and HttpClient wrap around the cause.
    /// </summary>
    public static FailureKind FromException(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case ServerCertificateRejectedException:
                    return FailureKind.Untrusted;
                case MqttProxyException proxy:
                    return proxy.ErrorCode is MqttProxyErrorCode.ProxyAuthFailed or MqttProxyErrorCode.ProxyAuthMethodRejected
                        ? FailureKind.ProxyUnauthorized
                        : FailureKind.Network;
                case HttpRequestException { StatusCode: HttpStatusCode.ProxyAuthenticationRequired }:
                    return FailureKind.ProxyUnauthorized; // ClientWebSocket / HttpClient: CONNECT answered 407
                case IOException when IsSocksAuthenticationFailure(e):
                    return FailureKind.ProxyUnauthorized;
                case TimeoutException or OperationCanceledException or MqttCommunicationTimedOutException:
                    return FailureKind.Timeout;
                case SocketException:
                    return FailureKind.Network;
            }
        }

        return FailureKind.Network;
    }

    /// <summary>
    /// ClientWebSocket and HttpClient report a SOCKS5 login or method refusal as System.Net.Http.SocksException, an
    /// internal type whose only distinction is its message ("Failed to authenticate with the SOCKS server.", "…did not
    /// return a suitable authentication method."). Best effort: a changed message makes it a retried network failure.
    /// </summary>
    private static bool IsSocksAuthenticationFailure(Exception e) =>
        e.GetType().FullName == "System.Net.Http.SocksException" && e.Message.Contains("authenticat", StringComparison.OrdinalIgnoreCase);
}
