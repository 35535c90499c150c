using FleetSim.HubEmulator.Faults;
using FleetSim.HubEmulator.Ingest;
using FleetSim.HubEmulator.Registry;
using FleetSim.HubEmulator.Throttling;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.AspNetCore;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace FleetSim.HubEmulator.Mqtt;

/// <summary>
/// The hub's MQTT side: an MQTTnet server fed by Kestrel (TLS on the MQTT port, WebSockets on the HTTPS
/// port), with IoT Hub's CONNECT checks, topic rules, per-device sessions (CleanSession=0 persists
/// subscriptions and unacknowledged QoS 1 messages; a new CONNECT takes over the old connection) and SAS
/// expiry disconnects. Messages to a device go straight into its session, never through broker fan-out.
/// </summary>
internal sealed class HubMqttServer : IConnectionControl, IAsyncDisposable
{
    private readonly MqttServer _server;
    private readonly DeviceRegistry _registry;
    private readonly ConnectAuthenticator _authenticator;
    private readonly TimeProvider _time;
    private readonly TimeSpan _expiryGrace;
    private readonly ILogger _logger;
    private readonly ConnectionFaults? _transportFaults;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, RegisteredDevice> _connected = new(StringComparer.Ordinal);

    public HubMqttServer(
        DeviceRegistry registry,
        ConnectAuthenticator authenticator,
        FaultInjector faults,
        TelemetryRecorder recorder,
        HubThrottle throttle,
        TimeProvider time,
        TimeSpan expiryGrace,
        ILoggerFactory loggerFactory,
        ConnectionFaults? transportFaults = null)
    {
        _transportFaults = transportFaults;
        _registry = registry;
        _authenticator = authenticator;
        _time = time;
        _expiryGrace = expiryGrace;
        _logger = loggerFactory.CreateLogger("FleetSim.HubEmulator.Mqtt");
        Router = new PublishRouter(registry, faults, throttle, recorder, time, MarkClosing);
        var rules = new SubscriptionRules(registry);
        rules.Subscribed += (device, kind) => Subscribed?.Invoke(device, kind);

        var options = new MqttServerOptionsBuilder()
            .WithoutDefaultEndpoint()
            .WithPersistentSessions()
            .WithMaxPendingMessagesPerClient(1000)
            .WithPendingMessagesOverflowStrategy(MqttPendingMessagesOverflowStrategy.DropNewMessage)
            .Build();
        _server = new MqttServerFactory().CreateMqttServer(
            options, [TcpAdapter, WebSocketAdapter], new MqttLogBridge(loggerFactory.CreateLogger("MQTTnet")));
        _server.ValidatingConnectionAsync += OnValidatingConnectionAsync;
        _server.ClientConnectedAsync += OnClientConnectedAsync;
        _server.ClientDisconnectedAsync += OnClientDisconnectedAsync;
        _server.SessionDeletedAsync += OnSessionDeletedAsync;
        _server.InterceptingPublishAsync += Router.OnPublishAsync;
        _server.InterceptingSubscriptionAsync += rules.OnSubscribeAsync;
        _server.InterceptingUnsubscriptionAsync += rules.OnUnsubscribeAsync;
        faults.Attach(this);
    }

    public KestrelMqttAdapter TcpAdapter { get; } = new();

    public MqttWebSocketServerAdapter WebSocketAdapter { get; } = new();

    public PublishRouter Router { get; }

    public HubCounters Counters { get; } = new();

    public MqttServer Server => _server;

    public Task StartAsync() => _server.StartAsync();

    public IReadOnlyList<string> ConnectedDeviceIds() => [.. _connected.Keys];

    /// <summary>Closes the device's current connection, recording <paramref name="reason"/>; false if it was not connected.</summary>
    public Task<bool> DisconnectAsync(string deviceId, DisconnectReason reason) =>
        _registry.Find(deviceId) is { } device ? DisconnectAsync(device, reason) : Task.FromResult(false);

    /// <summary>Closes the connection of a device object (also one already removed from the registry).</summary>
    public async Task<bool> DisconnectAsync(RegisteredDevice device, DisconnectReason reason)
    {
        if (!MarkClosing(device, reason))
        {
            return false;
        }

        return await TryDisconnectClientAsync(device.DeviceId).ConfigureAwait(false);
    }

    /// <summary>The expireTokens fault for one device: its current token is revoked and its connection closed.</summary>
    public async Task<bool> ExpireTokenAsync(string deviceId)
    {
        if (_registry.Find(deviceId) is not { } device || !device.Connection.RevokeCurrentToken())
        {
            return false;
        }

        return await DisconnectAsync(device, DisconnectReason.SasTokenExpired).ConfigureAwait(false);
    }

    /// <summary>
    /// Puts a message into the device's MQTT session (sent now if connected, kept with the session otherwise);
    /// false when the device has no session or its queue is full.
    /// </summary>
    public async Task<bool> EnqueueAsync(string deviceId, MqttApplicationMessage message)
    {
        try
        {
            var session = await _server.GetSessionAsync(deviceId).ConfigureAwait(false);
            return session is not null && session.TryEnqueueApplicationMessage(message, out _);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            return false; // no session (never connected, or deleted meanwhile), or the hub is stopping
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _server.StopAsync(new MqttServerStopOptions()).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }

        _server.Dispose();
    }

    private bool MarkClosing(RegisteredDevice device, DisconnectReason reason) =>
        device.Connection.MarkClosing(device.Connection.Generation, reason);

    private async Task<bool> TryDisconnectClientAsync(string clientId)
    {
        try
        {
            await _server.DisconnectClientAsync(clientId, new MqttServerClientDisconnectOptions
            {
                ReasonCode = MqttDisconnectReasonCode.AdministrativeAction,
            }).ConfigureAwait(false);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false; // already gone
        }
    }

    private Task OnValidatingConnectionAsync(ValidatingConnectionEventArgs e)
    {
        var refusal = _authenticator.Validate(
            e.ProtocolVersion, e.ClientId, e.UserName, e.Password, e.ClientCertificate, out var device, out var expiresAt, out var modelId);
        if (refusal != ConnectRefusal.None)
        {
            Counters.Refuse(refusal);
            e.ReasonCode = refusal switch
            {
                ConnectRefusal.ServerUnavailable or ConnectRefusal.Throttled => MqttConnectReasonCode.ServerUnavailable,
                ConnectRefusal.UnsupportedProtocol => MqttConnectReasonCode.UnsupportedProtocolVersion,
                _ => MqttConnectReasonCode.NotAuthorized,
            };
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                _logger.LogDebug("Refused CONNECT of client {ClientId}: {Reason}", e.ClientId, refusal);
            }

            return Task.CompletedTask;
        }

        Counters.Accept();
        _transportFaults?.Bind(e.ChannelAdapter?.RemoteEndPoint, device!.DeviceId);
        device!.Connection.Authorized(expiresAt, e.CleanSession ?? true, modelId);
        return Task.CompletedTask;
    }

    private Task OnClientConnectedAsync(ClientConnectedEventArgs e)
    {
        var device = _registry.Find(e.ClientId);
        if (device is null)
        {
            return Task.CompletedTask;
        }

        _connected[e.ClientId] = device;
        Counters.ConnectionOpened();
        device.Connection.Opened(_time.GetUtcNow(), (generation, expiresAt) => WatchExpiry(device, generation, expiresAt));
        Connected?.Invoke(device);
        return Task.CompletedTask;
    }

    private ITimer? WatchExpiry(RegisteredDevice device, long generation, DateTimeOffset? expiresAt)
    {
        if (expiresAt is not { } expiry)
        {
            return null; // X.509: no token to expire
        }

        var due = expiry + _expiryGrace - _time.GetUtcNow();
        if (due <= TimeSpan.Zero)
        {
            _ = Task.Run(() => OnTokenExpired(device, generation));
            return null;
        }

        return _time.CreateTimer(
            static state =>
            {
                var (hub, d, g) = ((HubMqttServer, RegisteredDevice, long))state!;
                hub.OnTokenExpired(d, g);
            },
            (this, device, generation),
            due,
            Timeout.InfiniteTimeSpan);
    }

    /// <summary>Raised when a device subscription was accepted (before the SUBACK goes out).</summary>
    public event Action<RegisteredDevice, DeviceSubscriptions>? Subscribed;

    /// <summary>Raised after a device connection is established (twins and C2D use it to deliver what waits).</summary>
    public event Action<RegisteredDevice>? Connected;

    private Task OnClientDisconnectedAsync(ClientDisconnectedEventArgs e)
    {
        if (!_connected.TryRemove(e.ClientId, out var device))
        {
            return Task.CompletedTask;
        }

        var hubReason = device.Connection.Closed(_time.GetUtcNow());
        var reason = hubReason ?? e.DisconnectType switch
        {
            MqttClientDisconnectType.Clean => DisconnectReason.ClientDisconnect,
            MqttClientDisconnectType.Takeover => DisconnectReason.TakenOver,
            _ => DisconnectReason.ConnectionLost,
        };
        Counters.ConnectionClosed(reason);
        return Task.CompletedTask;
    }

    private Task OnSessionDeletedAsync(SessionDeletedEventArgs e)
    {
        _registry.Find(e.Id)?.Connection.SessionDeleted();
        return Task.CompletedTask;
    }

    private void OnTokenExpired(RegisteredDevice device, long generation)
    {
        if (device.Connection.MarkClosing(generation, DisconnectReason.SasTokenExpired))
        {
            _ = TryDisconnectClientAsync(device.DeviceId);
        }
    }
}
