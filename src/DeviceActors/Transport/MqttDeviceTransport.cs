using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Akka.Actor;
using FleetSim.Protocol;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace FleetSim.DeviceActors.Transport;

/// <summary>Creates <see cref="MqttDeviceTransport"/>s; holds what a group shares (the certificate validator).</summary>
public sealed class MqttDeviceTransportFactory : IDeviceTransportFactory
{
    private static readonly MqttClientFactory Factory = new();

    public IDeviceTransport Create(DeviceIdentity identity, DeviceOptions options, DeviceTopics topics) =>
        new MqttDeviceTransport(Factory, identity, options, topics);
}

/// <summary>
/// IoT Hub MQTT over MQTTnet 5: MQTT 3.1.1, ClientId = device id, CleanSession = false, user name per
/// PROTOCOL.md section 1, the password supplied per connect, TLS checked against the trusted CA and host name.
/// MQTTnet's event handlers only tell the device actor; reconnecting is the actor's decision. Each connection
/// gets its own MQTTnet client whose handlers carry that connection's generation, so an event MQTTnet raises late
/// (its disconnect event runs on the thread pool) can never be mistaken for one of the next connection.
/// </summary>
public sealed class MqttDeviceTransport : IDeviceTransport, IMqttClientCredentialsProvider
{
    private readonly MqttClientFactory _factory;
    private readonly MqttClientOptions _options;
    private readonly DeviceTopics _topics;
    private readonly string _userName;
    private readonly ServerCertificateValidator _validator;
    private readonly string? _dialledAddress; // set when the TLS handshake names the hub but the device dialled this address
    private readonly MqttKeepAlive _keepAlive;
    private IActorRef _device = ActorRefs.Nobody;
    private IMqttClient? _client;
    private byte[]? _password;
    private volatile string? _rejection;
    private int _generation;

    /// <summary>
    /// The initial size of each client's packet writer (MQTTnet's default: 4,096 bytes, held per connection for its
    /// lifetime). IoT Hub's CONNECT (user name and SAS token) and topics are a few hundred bytes; since a PUBLISH goes out
    /// in one write (AllowPacketFragmentation off) the writer also holds its payload, so it grows to the device's largest
    /// message (and keeps up to 64 KB, as with the default).
    /// </summary>
    internal const int WriterBufferBytes = 512;

    public MqttDeviceTransport(MqttClientFactory factory, DeviceIdentity identity, DeviceOptions options, DeviceTopics topics)
    {
        _factory = factory;
        _topics = topics;
        _userName = MqttUsername.Build(options.HostName, identity.DeviceId, productInfo: options.ProductInfo, modelId: options.ModelId);
        _validator = ServerCertificateValidator.For(options);
        var target = ConnectionTarget.For(options, identity);
        _keepAlive = new MqttKeepAlive(options.KeepAlive, options.Time);
        var tlsName = TlsName(options.HostName, target.Host);
        _dialledAddress = tlsName == target.Host ? null : target.Host;

        var tls = new MqttClientTlsOptionsBuilder()
            .UseTls(true)
            .WithTargetHost(tlsName)
            .WithSslProtocols(options.TlsProtocols)
            .WithCertificateValidationHandler(ValidateServer);
        if (identity.ClientCertificate is not null)
            tls = tls.WithClientCertificates(new X509Certificate2Collection(identity.ClientCertificate));
        if (options.CipherSuites is { } suites && !OperatingSystem.IsWindows()) // Validate() rejects the option on Windows
            tls = tls.WithCipherSuitesPolicy(new CipherSuitesPolicy(suites));

        var builder = new MqttClientOptionsBuilder()
            .WithClientId(identity.DeviceId)
            .WithCredentials(this)
            .WithCleanSession(false)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithKeepAlivePeriod(MqttKeepAlive.ClientKeepAlive) // _keepAlive keeps the connection alive, and puts options.KeepAlive into CONNECT
            .WithTimeout(options.OperationTimeout)
            .WithTlsOptions(tls.Build());
        var proxy = options.Proxy;
        if (options.Transport == DeviceTransportKind.MqttWebSockets)
        {
            builder = builder.WithWebSocketServer(ws =>
            {
                ws.WithUri($"wss://{target.Host}:{target.Port}{options.WebSocketPath}").WithSubProtocols(["mqtt"]);
                if (proxy is not null)
                    ws.WithProxyOptions(WebSocketProxy(proxy));
            });
        }
        else
        {
            builder = builder.WithTcpServer(target.Host, target.Port);
            if (proxy is not null) // the channel puts TLS on the tunnel, with the hub's name as SNI
                builder = builder.WithStreamProvider(Proxy.ProxyConnection.For(proxy));
            else if (options.Relay is { } relay) // one provider per device: its CONNECT request names the device
                builder = builder.WithStreamProvider(new Proxy.HttpConnectStreamProvider(new Proxy.ProxyOptions(Proxy.ProxyKind.Http, relay.Host, relay.Port), identity.DeviceId));
        }

        _options = builder.Build();
        // A PUBLISH goes out in one write: MQTTnet's default writes its header and its payload separately, which on
        // TLS makes two records and two send() calls per message (and two records for the hub to decrypt). The send()
        // system call was the largest single item of the generator's CPU per message (bench/README.md, msg-cost).
        _options.AllowPacketFragmentation = false;
        _options.WriterBufferSize = WriterBufferBytes;
        if (target.LocalAddress is { } local && _options.ChannelOptions is MqttClientTcpOptions tcp)
            tcp.LocalEndpoint = new System.Net.IPEndPoint(local, 0);
    }

    public void Attach(IActorRef device) => _device = device;

    /// <summary>The MQTTnet client options every connection of this device uses (tests).</summary>
    internal MqttClientOptions ClientOptions => _options;

    /// <summary>
    /// The name the TLS handshake gives (SNI, and .NET's key for reusing its TLS context): the host dialled, or the
    /// hub's host name when the device dials an address. .NET sends no SNI for an address (RFC 6066) and then neither
    /// reuses its OpenSSL context nor a session: every connect paid for a new context (SSL_CTX_new), most of what a
    /// FleetSim connect cost more than a raw MQTTnet client's (bench/README.md, "connect burst"). The certificate is
    /// still checked against the address dialled (<see cref="ServerCertificateValidator.Check"/>).
    /// </summary>
    internal static string TlsName(string hubHostName, string dialledHost) =>
        IPAddress.TryParse(dialledHost, out _) && !IPAddress.TryParse(hubHostName, out _) ? hubHostName : dialledHost;

    /// <summary>
    /// ClientWebSocket's own proxy support (SocketsHttpHandler: HTTP CONNECT, or SOCKS5 for a socks5:// address).
    /// BypassOnLocal is off so that a hub on this machine or the local network is reached through the proxy too.
    /// MQTTnet passes the credentials only when both the user name and the password are non-empty.
    /// </summary>
    private static MqttClientWebSocketProxyOptions WebSocketProxy(Proxy.ProxyOptions proxy) => new()
    {
        Address = proxy.Address.ToString(),
        Username = proxy.UserName,
        // SOCKS4 has no password (.NET sends only the user name as the user id), but MQTTnet drops credentials without
        // one, so a SOCKS4 user id gets a placeholder the protocol never transmits.
        Password = proxy.Kind == Proxy.ProxyKind.Socks4 && proxy.UserName is not null ? "(socks4: no password)" : proxy.Password,
        BypassOnLocal = false,
    };

    public async Task<ConnectOutcome> ConnectAsync(string? password)
    {
        var generation = Interlocked.Increment(ref _generation);
        _password = password is null ? null : Encoding.UTF8.GetBytes(password);
        _rejection = null;
        if (_client is { } previous)
        {
            _client = null;
            if (previous.IsConnected)
                await previous.DisconnectAsync(new MqttClientDisconnectOptions()).ConfigureAwait(false);
            previous.Dispose();
        }

        _keepAlive.Stop();
        var client = _factory.CreateMqttClient(_factory.DefaultLogger, _keepAlive);
        client.DisconnectedAsync += e => OnDisconnected(e, generation);
        client.ApplicationMessageReceivedAsync += e => OnMessage(e, generation);
        _client = client;
        try
        {
            var result = await client.ConnectAsync(_options, CancellationToken.None).ConfigureAwait(false);
            if (result.ResultCode == MqttClientConnectResultCode.Success)
                _keepAlive.Start(client, generation);
            return result.ResultCode == MqttClientConnectResultCode.Success
                ? ConnectOutcome.Connected(generation, result.IsSessionPresent)
                : ConnectOutcome.Refused(generation, FailureKinds.FromConnAck(result.ResultCode), "CONNACK " + result.ResultCode);
        }
        catch (Exception) when (_rejection is { } why)
        {
            throw new ServerCertificateRejectedException($"the server certificate of {_options.ChannelOptions} was rejected: {why}");
        }
    }

    public Task SubscribeAsync(Subscriptions which)
    {
        var builder = new MqttClientSubscribeOptionsBuilder();
        // QoS 1 for C2D (the hub keeps undelivered messages); the SDKs use QoS 0 or 1 for the rest, the hub grants either.
        if ((which & Subscriptions.C2d) != 0)
            builder.WithTopicFilter(_topics.C2dSubscription, MqttQualityOfServiceLevel.AtLeastOnce, false, false, MqttRetainHandling.SendAtSubscribe);
        if ((which & Subscriptions.Methods) != 0)
            builder.WithTopicFilter(MethodTopics.Subscription, MqttQualityOfServiceLevel.AtMostOnce, false, false, MqttRetainHandling.SendAtSubscribe);
        if ((which & Subscriptions.TwinResponses) != 0)
            builder.WithTopicFilter(TwinTopics.ResponseSubscription, MqttQualityOfServiceLevel.AtMostOnce, false, false, MqttRetainHandling.SendAtSubscribe);
        if ((which & Subscriptions.TwinDesired) != 0)
            builder.WithTopicFilter(TwinTopics.DesiredSubscription, MqttQualityOfServiceLevel.AtMostOnce, false, false, MqttRetainHandling.SendAtSubscribe);
        return Subscribe(builder.Build());
    }

    private async Task Subscribe(MqttClientSubscribeOptions options)
    {
        var result = await Client.SubscribeAsync(options, CancellationToken.None).ConfigureAwait(false);
        foreach (var item in result.Items)
        {
            if (item.ResultCode > MqttClientSubscribeResultCode.GrantedQoS2)
                throw new InvalidOperationException($"the hub refused the subscription to '{item.TopicFilter.Topic}' ({item.ResultCode})");
        }
    }

    public Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, bool atLeastOnce)
    {
        var message = new MqttApplicationMessage
        {
            Topic = topic,
            Payload = new System.Buffers.ReadOnlySequence<byte>(payload),
            QualityOfServiceLevel = atLeastOnce ? MqttQualityOfServiceLevel.AtLeastOnce : MqttQualityOfServiceLevel.AtMostOnce,
        };
        return Client.PublishAsync(message, CancellationToken.None);
    }

    public Task AcknowledgeAsync(object ackHandle) =>
        ((MqttApplicationMessageReceivedEventArgs)ackHandle).AcknowledgeAsync(CancellationToken.None);

    public Task DisconnectAsync() =>
        _client is { IsConnected: true } client ? client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None) : Task.CompletedTask;

    public void Dispose()
    {
        _keepAlive.Dispose();
        _client?.Dispose();
        _client = null;
    }

    private IMqttClient Client => _client ?? throw new MQTTnet.Exceptions.MqttClientNotConnectedException();

    string IMqttClientCredentialsProvider.GetUserName(MqttClientOptions clientOptions) => _userName;

    byte[]? IMqttClientCredentialsProvider.GetPassword(MqttClientOptions clientOptions) => _password;

    private bool ValidateServer(MqttClientCertificateValidationEventArgs e)
    {
        _rejection = _validator.Check(e.Certificate, e.SslPolicyErrors, _dialledAddress);
        return _rejection is null;
    }

    private Task OnDisconnected(MqttClientDisconnectedEventArgs e, int generation)
    {
        _keepAlive.Stop(generation);
        // A failed connect also raises this event; the actor learns about that from ConnectAsync instead.
        if (e.ClientWasConnected)
        {
            var exception = e.Exception ?? _keepAlive.FailureOf(generation); // no PINGRESP: the keep-alive ended it
            var reason = exception is null ? FailureKind.Network : FailureKinds.FromException(exception);
            var detail = exception is null ? e.Reason.ToString() : $"{e.Reason}: {exception.GetType().Name}: {exception.Message}";
            _device.Tell(new TransportDisconnected(generation, reason, Redaction.Redact(detail)));
        }

        return Task.CompletedTask;
    }

    private Task OnMessage(MqttApplicationMessageReceivedEventArgs e, int generation)
    {
        var message = e.ApplicationMessage;
        var qos1 = message.QualityOfServiceLevel != MqttQualityOfServiceLevel.AtMostOnce;
        e.AutoAcknowledge = !qos1; // the device acknowledges QoS 1 messages once it has handled them
        _device.Tell(new TransportMessage(generation, message.Topic, System.Buffers.BuffersExtensions.ToArray(message.Payload), qos1 ? e : null));
        return Task.CompletedTask;
    }
}

/// <summary>
/// Checks the server certificate: the host name must match, and the chain must end at the trusted CA when one
/// is given (otherwise the system store decides). One per trusted CA, shared by every device that trusts it.
/// </summary>
internal sealed class ServerCertificateValidator
{
    private static readonly ServerCertificateValidator SystemTrust = new(null);
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<X509Certificate2, ServerCertificateValidator> ByCa = new();
    private readonly X509Certificate2? _ca;

    private ServerCertificateValidator(X509Certificate2? ca) => _ca = ca;

    public static ServerCertificateValidator For(DeviceOptions options) =>
        options.TrustedCa is null ? SystemTrust : ByCa.GetValue(options.TrustedCa, static ca => new ServerCertificateValidator(ca));

    /// <summary>
    /// Null when the certificate is acceptable, else why not. <paramref name="dialledAddress"/>: the handshake named
    /// another host (<see cref="MqttDeviceTransport.TlsName"/>), so the certificate must name this address instead.
    /// </summary>
    public string? Check(X509Certificate? certificate, SslPolicyErrors errors, string? dialledAddress = null)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
            return "no certificate";
        if (dialledAddress is not null)
            errors &= ~SslPolicyErrors.RemoteCertificateNameMismatch; // .NET checked the name the handshake gave
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            return "the host name does not match the certificate";
        if (_ca is null && dialledAddress is null)
            return errors == SslPolicyErrors.None ? null : errors.ToString();

        using var leaf = new X509Certificate2(certificate);
        if (dialledAddress is not null && !leaf.MatchesHostname(dialledAddress))
            return "the host name does not match the certificate";
        if (_ca is null)
            return errors == SslPolicyErrors.None ? null : errors.ToString();

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf) ? null : "it does not chain to the trusted CA";
    }
}
