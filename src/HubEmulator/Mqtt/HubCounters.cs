namespace FleetSim.HubEmulator.Mqtt;

/// <summary>Why the hub refused a CONNECT (all but <see cref="ServerUnavailable"/>, <see cref="Throttled"/> and <see cref="UnsupportedProtocol"/> answer CONNACK 5).</summary>
public enum ConnectRefusal
{
    None,
    /// <summary>Not MQTT 3.1.1 (CONNACK 1).</summary>
    UnsupportedProtocol,
    /// <summary>ClientId is not a registered device id (module ids are not supported).</summary>
    BadClientId,
    /// <summary>Username is not <c>{host}/{clientId}/...</c> for this hub and client id.</summary>
    BadUsername,
    UnknownDevice,
    DeviceDisabled,
    /// <summary>No password (SAS devices) or no client certificate (X.509 devices).</summary>
    MissingCredentials,
    MalformedToken,
    TokenExpired,
    BadSignature,
    /// <summary>The token's resource does not cover <c>{host}/devices/{id}</c>.</summary>
    WrongScope,
    /// <summary>The token names a policy (skn) this hub does not have or that may not connect devices.</summary>
    UnknownPolicy,
    CertificateRejected,
    /// <summary>Refused by fault injection (CONNACK 3).</summary>
    ServerUnavailable,
    /// <summary>A valid CONNECT over the connects-per-second quota (CONNACK 3).</summary>
    Throttled,
}

/// <summary>Why a device connection ended.</summary>
public enum DisconnectReason
{
    /// <summary>The device sent DISCONNECT.</summary>
    ClientDisconnect,
    /// <summary>The connection broke or the keep-alive ran out without a DISCONNECT.</summary>
    ConnectionLost,
    /// <summary>A new CONNECT with the same client id took over.</summary>
    TakenOver,
    TopicNotAllowed,
    QoS2NotSupported,
    MessageTooLarge,
    SasTokenExpired,
    FaultInjected,
    DeviceRemoved,
}

/// <summary>Connection counters of the hub, lock-free (one Interlocked per connect or disconnect).</summary>
internal sealed class HubCounters
{
    private readonly long[] _refusals = new long[Enum.GetValues<ConnectRefusal>().Length];
    private readonly long[] _disconnects = new long[Enum.GetValues<DisconnectReason>().Length];
    private long _accepted;
    private long _connected;

    public long Accepted => Interlocked.Read(ref _accepted);

    public long Connected => Interlocked.Read(ref _connected);

    public long Refused
    {
        get
        {
            long sum = 0;
            for (var i = 1; i < _refusals.Length; i++)
            {
                sum += Interlocked.Read(ref _refusals[i]);
            }

            return sum;
        }
    }

    public void Accept() => Interlocked.Increment(ref _accepted);

    public void Refuse(ConnectRefusal reason) => Interlocked.Increment(ref _refusals[(int)reason]);

    public void ConnectionOpened() => Interlocked.Increment(ref _connected);

    public void ConnectionClosed(DisconnectReason reason)
    {
        Interlocked.Decrement(ref _connected);
        Interlocked.Increment(ref _disconnects[(int)reason]);
    }

    public long Refusals(ConnectRefusal reason) => Interlocked.Read(ref _refusals[(int)reason]);

    public long Disconnects(DisconnectReason reason) => Interlocked.Read(ref _disconnects[(int)reason]);

    public IReadOnlyDictionary<string, long> RefusalsByReason() => ToMap<ConnectRefusal>(_refusals, skipFirst: true);

    public IReadOnlyDictionary<string, long> DisconnectsByReason() => ToMap<DisconnectReason>(_disconnects, skipFirst: false);

    private static Dictionary<string, long> ToMap<T>(long[] counts, bool skipFirst)
        where T : struct, Enum
    {
        var map = new Dictionary<string, long>(StringComparer.Ordinal);
        var names = Enum.GetNames<T>();
        for (var i = skipFirst ? 1 : 0; i < counts.Length; i++)
        {
            var value = Interlocked.Read(ref counts[i]);
            if (value > 0)
            {
                map[char.ToLowerInvariant(names[i][0]) + names[i][1..]] = value;
            }
        }

        return map;
    }
}
