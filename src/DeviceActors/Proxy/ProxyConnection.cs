using System.Net;
using System.Net.Sockets;
using MQTTnet.Channel;
using MQTTnet.Exceptions;

namespace FleetSim.DeviceActors.Proxy;

/// <summary>
/// The part both proxy protocols share: the TCP connection to the proxy, the stream MQTTnet puts TLS on, and
/// the failures as <see cref="MqttProxyException"/>s (the proxy's address in them, never its credentials).
/// </summary>
internal static class ProxyConnection
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ProxyOptions, IMqttClientStreamProvider> Providers = new();

    /// <summary>The stream provider for a proxy; one per <see cref="ProxyOptions"/> instance (a group), shared by its devices.</summary>
    public static IMqttClientStreamProvider For(ProxyOptions proxy) =>
        Providers.GetValue(proxy, static p => p.Kind switch
        {
            ProxyKind.Http => new HttpConnectStreamProvider(p),
            ProxyKind.Socks4 => new Socks4StreamProvider(p),
            _ => (IMqttClientStreamProvider)new Socks5StreamProvider(p),
        });

    /// <summary>host:port of the proxy, as the exceptions name it.</summary>
    public static string Name(ProxyOptions proxy) => proxy.Address.Authority;

    /// <summary>Opens TCP to the proxy; a failure is <see cref="MqttProxyErrorCode.ProxyUnreachable"/>, cancellation passes through.</summary>
    public static async Task<Socket> ConnectAsync(ProxyOptions proxy, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new DnsEndPoint(proxy.Host, proxy.Port), cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new MqttProxyException(MqttProxyErrorCode.ProxyUnreachable, $"cannot reach the proxy {Name(proxy)}: {e.Message}", Name(proxy), e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Runs a handshake on a fresh connection; on any failure the socket is closed and I/O errors become proxy errors.</summary>
    public static async Task<Stream> TunnelAsync(
        ProxyOptions proxy, CancellationToken cancellationToken, Func<Stream, CancellationToken, Task> handshake)
    {
        var socket = await ConnectAsync(proxy, cancellationToken).ConfigureAwait(false);
        var stream = new TunnelStream(socket);
        try
        {
            await handshake(stream, cancellationToken).ConfigureAwait(false);
            return stream;
        }
        catch (EndOfStreamException e)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw new MqttProxyException(MqttProxyErrorCode.ProxyProtocolError,
                $"the proxy {Name(proxy)} closed the connection during the handshake", Name(proxy), e);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw new MqttProxyException(MqttProxyErrorCode.ProxyUnknownError,
                $"the connection to the proxy {Name(proxy)} failed during the handshake: {e.Message}", Name(proxy), e);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public static MqttProxyException Error(ProxyOptions proxy, MqttProxyErrorCode code, string message) =>
        new(code, $"proxy {Name(proxy)}: {message}", Name(proxy));

    /// <summary>The tunnel: a socket stream that tells MQTTnet its end points (for its diagnostics).</summary>
    private sealed class TunnelStream(Socket socket) : NetworkStream(socket, ownsSocket: true), IMqttClientStreamEndPoints
    {
        public EndPoint? LocalEndPoint { get; } = socket.LocalEndPoint;

        public EndPoint? RemoteEndPoint { get; } = socket.RemoteEndPoint;
    }
}
