using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;

namespace FleetSim.HubEmulator.Faults;

/// <summary>
/// Every TCP connection the hub accepts (MQTT port and HTTPS port), seen below TLS, so that network faults touch
/// bytes and never the protocol: a blackholed connection stays open while the hub neither reads from it nor sends
/// on it (TLS and MQTT state stay intact, and whatever waited flows once the period ends); latency holds each
/// flush of hub bytes back. A device's connection is found by the remote endpoint MQTT CONNECT validation sees.
/// </summary>
internal sealed class ConnectionFaults(FaultInjector faults)
{
    private readonly ConcurrentDictionary<string, FaultableConnection> _byEndpoint = new(StringComparer.Ordinal);

    /// <summary>Kestrel connection middleware; goes before <c>UseHttps</c> so it sees the raw transport.</summary>
    public ConnectionDelegate Wrap(ConnectionDelegate next) => connection => RunAsync(connection, next);

    /// <summary>Records which device the connection from <paramref name="remote"/> belongs to (at CONNECT).</summary>
    public void Bind(EndPoint? remote, string deviceId)
    {
        if (Key(remote) is { } key && _byEndpoint.TryGetValue(key, out var connection))
        {
            connection.DeviceId = deviceId;
        }
    }

    /// <summary>The open connections of devices, by device id (a device being taken over may briefly have two: the newest wins).</summary>
    public Dictionary<string, FaultableConnection> DeviceConnections()
    {
        var byDevice = new Dictionary<string, FaultableConnection>(StringComparer.Ordinal);
        foreach (var connection in _byEndpoint.Values)
        {
            if (connection.DeviceId is { } id && (!byDevice.TryGetValue(id, out var other) || other.Sequence < connection.Sequence))
            {
                byDevice[id] = connection;
            }
        }

        return byDevice;
    }

    /// <summary>Ends every blackhole now (the fault was cleared).</summary>
    public void ReleaseAll()
    {
        foreach (var connection in _byEndpoint.Values)
        {
            connection.Release();
        }
    }

    private async Task RunAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var key = Key(connection.RemoteEndPoint);
        var faultable = new FaultableConnection(faults, connection.Transport, connection.ConnectionClosed);
        if (key is not null)
        {
            _byEndpoint[key] = faultable;
        }

        connection.Transport = faultable;
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            // A blackholed connection the hub gave up on still looks open to the device until the period ends.
            await faultable.WhileSilencedAsync().ConfigureAwait(false);
            faultable.CompleteDeferred();
            if (key is not null)
            {
                _byEndpoint.TryRemove(new KeyValuePair<string, FaultableConnection>(key, faultable));
            }
        }
    }

    private static string? Key(EndPoint? remote) => remote switch
    {
        IPEndPoint ip => (ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address) + ":" + ip.Port,
        null => null,
        _ => remote.ToString(),
    };
}

/// <summary>One accepted connection's transport with the gates <see cref="ConnectionFaults"/> controls.</summary>
internal sealed class FaultableConnection : IDuplexPipe
{
    private static long s_sequence;
    private readonly FaultInjector _faults;
    private readonly CancellationToken _closed;
    private long _silencedUntilTicks;
    private bool _completionDeferred;
    private Exception? _deferredError;

    public FaultableConnection(FaultInjector faults, IDuplexPipe inner, CancellationToken closed)
    {
        _faults = faults;
        _closed = closed;
        Sequence = Interlocked.Increment(ref s_sequence);
        Input = new Reader(this, inner.Input);
        Output = new Writer(this, inner.Output);
        InnerOutput = inner.Output;
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    public long Sequence { get; }

    /// <summary>The device this connection carries, once its CONNECT was validated.</summary>
    public string? DeviceId { get; set; }

    private PipeWriter InnerOutput { get; }

    public bool IsSilenced
    {
        get
        {
            var until = Interlocked.Read(ref _silencedUntilTicks);
            return until != 0 && _faults.Now.UtcTicks < until;
        }
    }

    /// <summary>Stops reading from and sending on this connection until <paramref name="until"/>.</summary>
    public void Silence(DateTimeOffset until) => Interlocked.Exchange(ref _silencedUntilTicks, until.UtcTicks);

    public void Release()
    {
        Interlocked.Exchange(ref _silencedUntilTicks, 0);
    }

    /// <summary>Completes once the connection is no longer silenced (or it closed, or the caller gave up).</summary>
    public async Task WhileSilencedAsync(CancellationToken cancellationToken = default)
    {
        using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(_closed, cancellationToken) : null;
        var token = linked?.Token ?? _closed;
        while (!token.IsCancellationRequested && IsSilenced)
        {
            var remaining = new DateTimeOffset(Interlocked.Read(ref _silencedUntilTicks), TimeSpan.Zero) - _faults.Now;
            await _faults.WaitAsync(remaining, token).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    public void CompleteDeferred()
    {
        if (_completionDeferred)
        {
            _completionDeferred = false;
            InnerOutput.Complete(_deferredError);
        }
    }

    private bool DeferCompletion(Exception? error)
    {
        if (!IsSilenced)
        {
            return false;
        }

        _completionDeferred = true;
        _deferredError = error;
        return true;
    }

    private sealed class Reader(FaultableConnection owner, PipeReader inner) : PipeReader
    {
        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            var read = inner.ReadAsync(cancellationToken);
            return !owner.IsSilenced && read.IsCompletedSuccessfully ? read : HeldAsync(read, cancellationToken);
        }

        public override bool TryRead(out ReadResult result)
        {
            if (owner.IsSilenced)
            {
                result = default;
                return false;
            }

            return inner.TryRead(out result);
        }

        public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        /// <summary>What arrives while silenced is kept unread until the period ends: the hub does not see it.</summary>
        [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<ReadResult> HeldAsync(ValueTask<ReadResult> read, CancellationToken cancellationToken)
        {
            var result = await read.ConfigureAwait(false);
            await owner.WhileSilencedAsync(cancellationToken).ConfigureAwait(false);
            return result;
        }
    }

    private sealed class Writer(FaultableConnection owner, PipeWriter inner) : PipeWriter
    {
        public override void Advance(int bytes) => inner.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void Complete(Exception? exception = null)
        {
            if (!owner.DeferCompletion(exception))
            {
                inner.Complete(exception);
            }
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            var delay = owner._faults.AnswerDelay(owner.DeviceId);
            return delay == TimeSpan.Zero && !owner.IsSilenced ? inner.FlushAsync(cancellationToken) : DelayedAsync(delay, cancellationToken);
        }

        /// <summary>Latency: the bytes leave after the delay, in order; silenced: they leave when the period ends.</summary>
        [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<FlushResult> DelayedAsync(TimeSpan delay, CancellationToken cancellationToken)
        {
            if (delay > TimeSpan.Zero)
            {
                await owner._faults.WaitAsync(delay, owner._closed).ConfigureAwait(false);
            }

            await owner.WhileSilencedAsync(cancellationToken).ConfigureAwait(false);
            return await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
