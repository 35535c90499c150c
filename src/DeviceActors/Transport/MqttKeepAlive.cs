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
/// the wire still carries the device's keep-alive (the channel adapter puts it back), and the connection is checked
/// when it may have been silent for a whole period, on the clock's <see cref="KeepAliveWheel"/> (one timer for every
/// connection, at most one <see cref="KeepAliveWheel.Tick"/> late): a PINGREQ goes out only when nothing was sent
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
    private readonly KeepAliveWheel _wheel;
    private readonly object _lock = new();
    private long _lastSent;
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
        _wheel = KeepAliveWheel.For(time);
    }

    /// <summary>When the wheel is to check this connection next (a timestamp; 0: not scheduled). Guarded by the wheel's lock.</summary>
    internal long WheelDue { get; set; }

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
            _client = client;
            _generation = generation;
            var now = _time.GetTimestamp();
            Volatile.Write(ref _lastSent, now);
            _wheel.Schedule(this, now + _periodTicks);
        }
    }

    public void Stop()
    {
        lock (_lock)
            _client = null; // its wheel entry finds nothing to do when its time comes
    }

    /// <summary>The connection of <paramref name="generation"/> is down (a later one keeps its keep-alive).</summary>
    public void Stop(int generation)
    {
        lock (_lock)
        {
            if (_generation != generation)
                return;
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

    /// <summary>The wheel's check: a PINGREQ if the connection was silent a whole period, else a check when it may be.</summary>
    internal void Due()
    {
        IMqttClient client;
        int generation;
        lock (_lock)
        {
            if (_client is null)
                return;
            client = _client;
            generation = _generation;
            var lastSent = Volatile.Read(ref _lastSent);
            var now = _time.GetTimestamp();
            if (now - lastSent < _periodTicks)
            {
                _wheel.Schedule(this, lastSent + _periodTicks);
                return;
            }

            Volatile.Write(ref _lastSent, now); // the PINGREQ about to go out is a send (the adapter notes it too)
        }

        _ = PingAsync(client, generation, _period);
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
                    _wheel.Schedule(this, Volatile.Read(ref _lastSent) + _periodTicks); // the PINGREQ was a send: next check a period after it
            }
        }
        catch (Exception e)
        {
            lock (_lock)
            {
                if (_client != client || _generation != generation)
                    return; // that connection is over already
                (_failedGeneration, _failure) = (generation, e is OperationCanceledException ? new TimeoutException("no PINGRESP within half the keep-alive period", e) : e);
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

