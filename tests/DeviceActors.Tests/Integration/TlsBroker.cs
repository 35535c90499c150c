using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace FleetSim.DeviceActors.Tests.Integration;

/// <summary>
/// A plain MQTTnet broker over TLS on loopback, for testing the device transport on real MQTT without the hub:
/// it records every CONNECT and PUBLISH and can refuse connects or drop clients.
/// </summary>
internal sealed class TlsBroker : IAsyncDisposable
{
    private readonly MqttServer _server;

    private TlsBroker(MqttServer server, int port)
    {
        _server = server;
        Port = port;
    }

    public sealed record ConnectSeen(string ClientId, string UserName, string? Password, bool? CleanSession, ushort? KeepAlive,
        string? ClientCertificateThumbprint);

    public int Port { get; }

    public ConcurrentQueue<ConnectSeen> Connects { get; } = new();

    public ConcurrentQueue<(string ClientId, string Topic)> Published { get; } = new();

    /// <summary>Where each connected client's socket came from (its source address).</summary>
    public ConcurrentQueue<(string ClientId, System.Net.EndPoint? Remote)> Remotes { get; } = new();

    /// <summary>What CONNACK to give; Success by default.</summary>
    public MqttConnectReasonCode ConnAck { get; set; } = MqttConnectReasonCode.Success;

    public static async Task<TlsBroker> StartAsync(TestCertificates certificates,
        System.Security.Authentication.SslProtocols protocols = System.Security.Authentication.SslProtocols.None,
        bool askForClientCertificate = false)
    {
        var port = FreePort();
        var builder = new MqttServerOptionsBuilder();
        if (askForClientCertificate)
            builder = builder.WithClientCertificate((_, _, _, _) => true, false); // the test checks the thumbprint itself
        var options = builder
            .WithEncryptionSslProtocol(protocols)
            .WithoutDefaultEndpoint()
            .WithEncryptedEndpoint()
            .WithEncryptedEndpointBoundIPAddress(IPAddress.Loopback)
            .WithEncryptedEndpointPort(port)
            .WithEncryptionCertificate(certificates.Server)
            .WithPersistentSessions(true)
            .Build();
        var server = new MqttServerFactory().CreateMqttServer(options);
        var broker = new TlsBroker(server, port);
        server.ValidatingConnectionAsync += e =>
        {
            broker.Connects.Enqueue(new ConnectSeen(e.ClientId, e.UserName, e.Password, e.CleanSession, e.KeepAlivePeriod,
                e.ChannelAdapter.ClientCertificate?.Thumbprint));
            e.ReasonCode = broker.ConnAck;
            return Task.CompletedTask;
        };
        server.ClientConnectedAsync += e =>
        {
            broker.Remotes.Enqueue((e.ClientId, e.RemoteEndPoint));
            return Task.CompletedTask;
        };
        server.InterceptingPublishAsync += e =>
        {
            broker.Published.Enqueue((e.ClientId, e.ApplicationMessage.Topic));
            return Task.CompletedTask;
        };
        await server.StartAsync();
        return broker;
    }

    public Task DropAsync(string clientId) =>
        _server.DisconnectClientAsync(clientId, new MqttServerClientDisconnectOptions { ReasonCode = MqttDisconnectReasonCode.AdministrativeAction });

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync(new MqttServerStopOptions());
        _server.Dispose();
    }

    /// <summary>Binds port 0 to let the OS pick a free port, then releases it for the broker.</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
