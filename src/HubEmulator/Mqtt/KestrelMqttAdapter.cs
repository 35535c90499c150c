using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using MQTTnet.Adapter;
using MQTTnet.AspNetCore;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Server;

namespace FleetSim.HubEmulator.Mqtt;

/// <summary>
/// Feeds TLS connections accepted by Kestrel on the MQTT port to the MQTTnet server. Kestrel does the TLS
/// (and asks for an optional client certificate); this adapter makes the certificate visible to CONNECT
/// validation, which MQTTnet's own connection context only does for HTTP requests.
/// </summary>
internal sealed class KestrelMqttAdapter : IMqttServerAdapter
{
    public Func<IMqttChannelAdapter, Task>? ClientHandler { get; set; }

    public Task StartAsync(MqttServerOptions options, IMqttNetLogger logger) => Task.CompletedTask;

    public Task StopAsync() => Task.CompletedTask;

    public void Dispose()
    {
    }

    public async Task OnConnectedAsync(ConnectionContext connection)
    {
        var handler = ClientHandler;
        if (handler is null)
        {
            connection.Abort();
            return;
        }

        var certificate = connection.Features.Get<ITlsConnectionFeature>()?.ClientCertificate;
        var formatter = new MqttPacketFormatterAdapter(new MqttBufferWriter(4096, 65536));
        using var inner = new MqttConnectionContext(formatter, connection);
        using var channel = new TlsChannel(inner, certificate, connection.RemoteEndPoint, connection.LocalEndPoint);
        await handler(channel).ConfigureAwait(false);
    }

    /// <summary>Delegates to MQTTnet's channel, adding what Kestrel knows about the TLS connection.</summary>
    private sealed class TlsChannel(IMqttChannelAdapter inner, X509Certificate2? certificate, EndPoint? remote, EndPoint? local)
        : IMqttChannelAdapter
    {
        public long BytesReceived => inner.BytesReceived;

        public long BytesSent => inner.BytesSent;

        public X509Certificate2? ClientCertificate => certificate;

        public EndPoint? RemoteEndPoint => remote ?? inner.RemoteEndPoint;

        public EndPoint? LocalEndPoint => local ?? inner.LocalEndPoint;

        public bool IsSecureConnection => true;

        public MqttPacketFormatterAdapter PacketFormatterAdapter => inner.PacketFormatterAdapter;

        public Task ConnectAsync(CancellationToken cancellationToken) => inner.ConnectAsync(cancellationToken);

        public Task DisconnectAsync(CancellationToken cancellationToken) => inner.DisconnectAsync(cancellationToken);

        public Task<MqttPacket> ReceivePacketAsync(CancellationToken cancellationToken) => inner.ReceivePacketAsync(cancellationToken);

        public void ResetStatistics() => inner.ResetStatistics();

        public Task SendPacketAsync(MqttPacket packet, CancellationToken cancellationToken) => inner.SendPacketAsync(packet, cancellationToken);

        public void Dispose()
        {
        }
    }
}
