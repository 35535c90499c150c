using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Implementations;
using MQTTnet.Packets;

namespace FleetSim.DeviceActors.Transport;

/// <summary>
/// One device's MQTT keep-alive, without MQTTnet's keep-alive task: MQTTnet 5 checks every connected client's
/// keep-alive every 250 ms (a Task.Delay loop per client, 4 wake-ups per second per device even when nothing is due),
/// which was most of an idle fleet's CPU. Here the client is connected with MQTTnet's keep-alive off, the CONNECT on
/// the wire still carries the device's keep-alive (the channel adapter puts it back), and one timer per connection
/// fires when the connection may have been silent for a whole period: a PINGREQ goes out only when nothing was sent
/// for the keep-alive period (as MQTTnet and the SDKs do), and a PINGRESP missing after half the period ends the
/// connection (as MQTTnet does), recorded as a timeout.
/// </summary>
internal sealed class MqttKeepAlive : IMqttClientAdapterFactory, IDisposable
{
    private static readonly MqttClientAdapterFactory Inner = new();
    private readonly TimeSpan _period;
    private readonly long _periodTicks;
    private readonly ushort _periodSeconds;
    private readonly TimeProvider _time;
    private readonly object _lock = new();
    private long _lastSent;
    private ITimer? _timer;
    private IMqttClient? _client;
    private int _generation;
    private int _failedGeneration;
    private Exception? _failure;

    public MqttKeepAlive(TimeSpan period, TimeProvider time)
    {
        _period = period;
        _time = time;
        _periodSeconds = (ushort)Math.Clamp(period.TotalSeconds, 0, ushort.MaxValue);
        _periodTicks = (long)(period.TotalSeconds * time.TimestampFrequency);
    }

    /// <summary>The keep-alive MQTTnet is given: none (this class keeps the connection alive instead).</summary>
    public static TimeSpan ClientKeepAlive => TimeSpan.Zero;

    /// <summary>Sends a PINGREQ and waits for its PINGRESP (the MQTTnet client's PingAsync), for tests a fake.</summary>
    internal Func<IMqttClient, CancellationToken, Task> Ping { get; init; } = static (client, ct) => client.PingAsync(ct);

    /// <summary>Ends a connection whose PINGRESP did not come (for tests a fake).</summary>
    internal Func<IMqttClient, Task> Abort { get; init; } = static client => client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None);

    public IMqttChannelAdapter CreateClientAdapter(MqttClientOptions options, MqttPacketInspector packetInspector, IMqttNetLogger logger) =>
        new Adapter(Inner.CreateClientAdapter(options, packetInspector, logger), this);

    /// <summary>The connection of <paramref name="generation"/> is up: keep it alive until <see cref="Stop"/>.</summary>
    public void Start(IMqttClient client, int generation)
    {
        if (_periodSeconds == 0)
            return;
        lock (_lock)
        {
            _timer?.Dispose();
            _client = client;
            _generation = generation;
            Volatile.Write(ref _lastSent, _time.GetTimestamp());
            _timer = _time.CreateTimer(static s => ((MqttKeepAlive)s!).Due(), this, _period, Timeout.InfiniteTimeSpan);
        }
    }

    public void Stop()
    {
        lock (_lock)
        {
            _timer?.Dispose();
            _timer = null;
            _client = null;
        }
    }

    /// <summary>The connection of <paramref name="generation"/> is down (a later one keeps its keep-alive).</summary>
    public void Stop(int generation)
    {
        lock (_lock)
        {
            if (_generation != generation)
                return;
            _timer?.Dispose();
            _timer = null;
            _client = null;
        }
    }

    public void Dispose() => Stop();

    /// <summary>Why the connection of <paramref name="generation"/> was ended by the keep-alive, if it was.</summary>
    public Exception? FailureOf(int generation)
    {
        lock (_lock)
            return _failedGeneration == generation ? _failure : null;
    }

    internal void Sent() => Volatile.Write(ref _lastSent, _time.GetTimestamp());

    private void Due()
    {
        IMqttClient client;
        int generation;
        TimeSpan wait;
        lock (_lock)
        {
            if (_client is null || _timer is null)
                return;
            client = _client;
            generation = _generation;
            var silent = _time.GetTimestamp() - Volatile.Read(ref _lastSent);
            if (silent < _periodTicks)
            {
                _timer.Change(TimeSpan.FromSeconds((double)(_periodTicks - silent) / _time.TimestampFrequency), Timeout.InfiniteTimeSpan);
                return;
            }

            wait = _period;
        }

        _ = PingAsync(client, generation, wait);
    }

    private async Task PingAsync(IMqttClient client, int generation, TimeSpan period)
    {
        try
        {
            using var timeout = new CancellationTokenSource(period / 2, _time);
            await Ping(client, timeout.Token).ConfigureAwait(false);
            lock (_lock)
            {
                if (_client == client && _generation == generation)
                    _timer?.Change(period, Timeout.InfiniteTimeSpan); // the PINGREQ was a send: next check one period later
            }
        }
        catch (Exception e)
        {
            lock (_lock)
            {
                if (_client != client || _generation != generation)
                    return; // that connection is over already
                (_failedGeneration, _failure) = (generation, e is OperationCanceledException ? new TimeoutException("no PINGRESP within half the keep-alive period", e) : e);
                _timer?.Dispose();
                _timer = null;
                _client = null;
            }

            try
            {
                await Abort(client).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // the connection is broken anyway: MQTTnet has raised (or raises) its disconnect event
            }
        }
    }

    /// <summary>MQTTnet's channel adapter with the keep-alive put back into CONNECT and every send time noted.</summary>
    private sealed class Adapter(IMqttChannelAdapter inner, MqttKeepAlive keepAlive) : IMqttChannelAdapter
    {
        public bool IsSecureConnection => inner.IsSecureConnection;

        public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate => inner.ClientCertificate;

        public MqttPacketFormatterAdapter PacketFormatterAdapter => inner.PacketFormatterAdapter;

        public long BytesSent => inner.BytesSent;

        public long BytesReceived => inner.BytesReceived;

        public System.Net.EndPoint RemoteEndPoint => inner.RemoteEndPoint;

        public System.Net.EndPoint LocalEndPoint => inner.LocalEndPoint;

        public Task ConnectAsync(CancellationToken cancellationToken) => inner.ConnectAsync(cancellationToken);

        public Task DisconnectAsync(CancellationToken cancellationToken) => inner.DisconnectAsync(cancellationToken);

        public Task SendPacketAsync(MqttPacket packet, CancellationToken cancellationToken)
        {
            if (packet is MqttConnectPacket connect)
                connect.KeepAlivePeriod = keepAlive._periodSeconds;
            keepAlive.Sent();
            return inner.SendPacketAsync(packet, cancellationToken);
        }

        public Task<MqttPacket> ReceivePacketAsync(CancellationToken cancellationToken) => inner.ReceivePacketAsync(cancellationToken);

        public void ResetStatistics() => inner.ResetStatistics();

        public void Dispose() => inner.Dispose();
    }
}

