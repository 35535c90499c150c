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
}

public static class FailureKinds
{
    public static bool IsRetryable(this FailureKind kind) => kind is not (FailureKind.Unauthorized or FailureKind.Untrusted);

    /// <summary>The short, stable label used in metrics and in the Stopped reason.</summary>
    public static string Label(this FailureKind kind) => kind switch
    {
        FailureKind.Unauthorized => "unauthorized",
        FailureKind.Throttled => "throttled",
        FailureKind.Timeout => "timeout",
        FailureKind.Network => "network",
        FailureKind.Refused => "refused",
        FailureKind.Untrusted => "untrustedServer",
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

    /// <summary>Classifies an exception from a connect attempt or an operation on a connection.</summary>
    public static FailureKind FromException(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case ServerCertificateRejectedException:
                    return FailureKind.Untrusted;
                case TimeoutException or OperationCanceledException or MqttCommunicationTimedOutException:
                    return FailureKind.Timeout;
                case SocketException:
                    return FailureKind.Network;
            }
        }

        return FailureKind.Network;
    }
}
