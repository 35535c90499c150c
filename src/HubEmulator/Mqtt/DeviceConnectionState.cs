namespace FleetSim.HubEmulator.Mqtt;

/// <summary>Which device topics a device has subscribed (kept across reconnects with CleanSession=0).</summary>
[Flags]
internal enum DeviceSubscriptions
{
    None = 0,
    C2d = 1,
    TwinResponses = 2,
    DesiredPatches = 4,
    Methods = 8,
}

/// <summary>
/// The MQTT side of one device: whether it is connected, on which connection (a generation number, so a
/// late timer or fault aimed at an old connection never hits the new one), its token expiry and subscriptions.
/// </summary>
internal sealed class DeviceConnectionState
{
    private readonly Lock _gate = new();
    private int _connected;
    private long _generation;
    private int _subscriptions;
    private DateTimeOffset? _pendingExpiry;
    private bool _pendingClean;
    private ITimer? _expiryTimer;
    private long _lastActivityTicks;
    private long _stateChangedTicks;
    private DisconnectReason? _pendingCloseReason;
    private DateTimeOffset? _tokenExpiry;
    private long _revokedThroughTicks = long.MinValue;

    public bool IsConnected => Volatile.Read(ref _connected) != 0;

    public long Generation => Interlocked.Read(ref _generation);

    public DeviceSubscriptions Subscriptions => (DeviceSubscriptions)Volatile.Read(ref _subscriptions);

    /// <summary>Last connect, disconnect or message from the device (zero ticks when never seen).</summary>
    public DateTimeOffset LastActivity => new(Interlocked.Read(ref _lastActivityTicks), TimeSpan.Zero);

    /// <summary>Whether the current (or last) connection asked for a clean session.</summary>
    public bool CleanSession { get; private set; }

    /// <summary>The DTDL model id the device announced in its username (model-id), if any.</summary>
    public string? ModelId { get; private set; }

    public DateTimeOffset StateChanged => new(Interlocked.Read(ref _stateChangedTicks), TimeSpan.Zero);

    /// <summary>CONNECT passed validation; remembered until the connection is established.</summary>
    public void Authorized(DateTimeOffset? expiresAt, bool cleanSession, string? modelId)
    {
        lock (_gate)
        {
            ModelId = modelId;
            _pendingExpiry = expiresAt;
            _pendingClean = cleanSession;
        }
    }

    /// <summary>
    /// The connection is up. <paramref name="watchExpiry"/> gets the new generation and the token expiry and may
    /// return a timer; it runs before the device shows as connected, so nobody sees a connection without its timer.
    /// </summary>
    public long Opened(DateTimeOffset now, Func<long, DateTimeOffset?, ITimer?> watchExpiry)
    {
        lock (_gate)
        {
            _expiryTimer?.Dispose();
            _pendingCloseReason = null;
            CleanSession = _pendingClean;
            if (_pendingClean)
            {
                Volatile.Write(ref _subscriptions, 0);
            }

            var generation = Interlocked.Increment(ref _generation);
            _tokenExpiry = _pendingExpiry;
            _expiryTimer = watchExpiry(generation, _pendingExpiry);
            Interlocked.Exchange(ref _stateChangedTicks, now.UtcTicks);
            Interlocked.Exchange(ref _lastActivityTicks, now.UtcTicks);
            Volatile.Write(ref _connected, 1);
            return generation;
        }
    }

    /// <summary>
    /// The hub is about to close this connection for <paramref name="reason"/>; returns false if the connection
    /// of <paramref name="generation"/> is no longer the current one (nothing to close).
    /// </summary>
    public bool MarkClosing(long generation, DisconnectReason reason)
    {
        lock (_gate)
        {
            if (generation != _generation || _connected == 0)
            {
                return false;
            }

            _pendingCloseReason ??= reason;
            return true;
        }
    }

    /// <summary>The connection ended; returns the reason the hub recorded when it closed it, if it did.</summary>
    public DisconnectReason? Closed(DateTimeOffset now)
    {
        lock (_gate)
        {
            _expiryTimer?.Dispose();
            _expiryTimer = null;
            Volatile.Write(ref _connected, 0);
            Interlocked.Exchange(ref _stateChangedTicks, now.UtcTicks);
            Interlocked.Exchange(ref _lastActivityTicks, now.UtcTicks);
            var reason = _pendingCloseReason;
            _pendingCloseReason = null;
            return reason;
        }
    }

    /// <summary>
    /// The expireTokens fault: the current connection's SAS token, and any token that expires no later, counts as
    /// expired from now on; false when the device is not connected with a token (X.509 has none to expire).
    /// </summary>
    public bool RevokeCurrentToken()
    {
        lock (_gate)
        {
            if (_connected == 0 || _tokenExpiry is not { } expiry)
            {
                return false;
            }

            Interlocked.Exchange(ref _revokedThroughTicks, Math.Max(Interlocked.Read(ref _revokedThroughTicks), expiry.UtcTicks));
            return true;
        }
    }

    /// <summary>Whether a token expiring at <paramref name="expiresAt"/> was revoked by the expireTokens fault.</summary>
    public bool IsRevoked(DateTimeOffset expiresAt) => expiresAt.UtcTicks <= Interlocked.Read(ref _revokedThroughTicks);

    /// <summary>The MQTT session ended (clean session or deleted): subscriptions are gone.</summary>
    public void SessionDeleted() => Volatile.Write(ref _subscriptions, 0);

    public void Subscribed(DeviceSubscriptions subscription)
    {
        int current;
        do
        {
            current = Volatile.Read(ref _subscriptions);
        }
        while (Interlocked.CompareExchange(ref _subscriptions, current | (int)subscription, current) != current);
    }

    public void Unsubscribed(DeviceSubscriptions subscription)
    {
        int current;
        do
        {
            current = Volatile.Read(ref _subscriptions);
        }
        while (Interlocked.CompareExchange(ref _subscriptions, current & ~(int)subscription, current) != current);
    }

    public void Touch(long utcTicks) => Volatile.Write(ref _lastActivityTicks, utcTicks);
}
