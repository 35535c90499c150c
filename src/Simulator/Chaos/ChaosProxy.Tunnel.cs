using System.Net.Sockets;

namespace FleetSim.Simulator.Chaos;

/// <summary>The tunnels: one per device connection, relaying bytes both ways with the blackhole and latency faults applied.</summary>
public sealed partial class ChaosProxy
{
    /// <summary>One device's tunnel: two sockets and a relay each way.</summary>
    private sealed class Tunnel(ChaosProxy proxy, long id, string deviceId, Socket device, Socket hub)
    {
        private readonly CancellationTokenSource _abort = new();
        private long _silentUntilTicks;

        public long Id { get; } = id;

        public string DeviceId { get; } = deviceId;

        public void SilenceUntil(long ticks) => Interlocked.Exchange(ref _silentUntilTicks, ticks);

        /// <summary>Ends the tunnel after a failure of one direction: the other stops too, both sockets close.</summary>
        public void Fail()
        {
            try
            {
                _abort.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // already finished
            }
        }

        public void Abort()
        {
            try
            {
                _abort.Cancel();
            }
            catch (ObjectDisposedException)
            {
                return; // already finished
            }

            Reset(device);
            Reset(hub);
        }

        public async Task RunAsync()
        {
            try
            {
                // Either direction failing (a reset, a cut) ends both (Fail); an orderly end of one direction waits for the other.
                var up = new Relay(this, device, hub, delayed: false).RunAsync(_abort.Token);
                var down = new Relay(this, hub, device, delayed: true).RunAsync(_abort.Token);
                await Task.WhenAll(up, down).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                // the tunnel is over either way
            }
            finally
            {
                device.Dispose();
                hub.Dispose();
                _abort.Dispose();
            }
        }

        /// <summary>Waits while the tunnel is blackholed.</summary>
        public async Task WaitWhileSilentAsync(CancellationToken ct)
        {
            while (proxy._time.GetUtcNow().UtcTicks is var now && now < Interlocked.Read(ref _silentUntilTicks))
                await Task.Delay(TimeSpan.FromTicks(Interlocked.Read(ref _silentUntilTicks) - now), proxy._time, ct).ConfigureAwait(false);
        }

        public async Task WaitUntilAsync(long ticks, CancellationToken ct)
        {
            while (proxy._time.GetUtcNow().UtcTicks is var now && now < ticks)
                await Task.Delay(TimeSpan.FromTicks(ticks - now), proxy._time, ct).ConfigureAwait(false);
        }

        public long ReleaseTicks() => proxy.ReleaseTicks(DeviceId);
    }

    /// <summary>One direction: a reader that fills a bounded queue of chunks and a writer that passes them on when they are due.</summary>
    private sealed class Relay(Tunnel tunnel, Socket from, Socket to, bool delayed)
    {
        private readonly System.Threading.Channels.Channel<(byte[] Buffer, int Length, long Release)> _queue =
            System.Threading.Channels.Channel.CreateBounded<(byte[], int, long)>(new System.Threading.Channels.BoundedChannelOptions(QueuedChunks)
            {
                SingleReader = true,
                SingleWriter = true,
            });

        public Task RunAsync(CancellationToken ct) => Task.WhenAll(ReadAsync(ct), WriteAsync(ct));

        private async Task ReadAsync(CancellationToken ct)
        {
            try
            {
                while (true)
                {
                    await tunnel.WaitWhileSilentAsync(ct).ConfigureAwait(false);
                    // Wait for data without holding a buffer: an idle tunnel costs no buffer memory.
                    await from.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, ct).ConfigureAwait(false);
                    await tunnel.WaitWhileSilentAsync(ct).ConfigureAwait(false);
                    var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(ChunkBytes);
                    int read;
                    try
                    {
                        read = await from.ReceiveAsync(buffer.AsMemory(0, ChunkBytes), SocketFlags.None, ct).ConfigureAwait(false);
                    }
                    catch
                    {
                        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                        throw;
                    }

                    if (read == 0)
                    {
                        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                        break;
                    }

                    await _queue.Writer.WriteAsync((buffer, read, delayed ? tunnel.ReleaseTicks() : 0), ct).ConfigureAwait(false);
                }

                _queue.Writer.TryComplete();
            }
            catch (Exception e)
            {
                _queue.Writer.TryComplete(e);
                tunnel.Fail();
                throw;
            }
        }

        private async Task WriteAsync(CancellationToken ct)
        {
            var last = 0L;
            try
            {
                await foreach (var (buffer, length, release) in _queue.Reader.ReadAllAsync(ct).ConfigureAwait(false))
                {
                    try
                    {
                        // Never before an earlier chunk: TCP keeps order, so jitter may stretch gaps but never reorder.
                        last = Math.Max(last, release);
                        await tunnel.WaitUntilAsync(last, ct).ConfigureAwait(false);
                        await tunnel.WaitWhileSilentAsync(ct).ConfigureAwait(false);
                        var sent = 0;
                        while (sent < length)
                            sent += await to.SendAsync(buffer.AsMemory(sent, length - sent), SocketFlags.None, ct).ConfigureAwait(false);
                    }
                    finally
                    {
                        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                    }
                }

                to.Shutdown(SocketShutdown.Send); // pass the orderly end on
            }
            catch
            {
                tunnel.Fail();
                throw;
            }
            finally
            {
                while (_queue.Reader.TryRead(out var left))
                    System.Buffers.ArrayPool<byte>.Shared.Return(left.Buffer);
            }
        }
    }
}
