using System.Collections.Concurrent;
using System.Net;
using Akka.Actor;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MQTTnet.AspNetCore;

namespace FleetSim.DeviceActors.Tests.Integration;

/// <summary>MQTT over secure WebSockets (wss://host:port/$iothub/websocket) against a Kestrel-hosted MQTTnet server.</summary>
public sealed class WebSocketTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const string Key = "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ==";
    private readonly TestCertificates _certificates = TestCertificates.Create();
    private readonly FleetMetrics _metrics = new();
    private readonly ConcurrentQueue<string> _connects = new();
    private WebApplication _web = null!;
    private int _port;

    public WebSocketTests() : base("akka.loglevel = WARNING")
    {
    }

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(_certificates.Server)));
        builder.Services.AddHostedMqttServer(o => o.WithoutDefaultEndpoint());
        builder.Services.AddMqttConnectionHandler();
        builder.Services.AddConnections();
        _web = builder.Build();
        _web.UseWebSockets();
        _web.MapMqtt("/$iothub/websocket");
        _web.UseMqttServer(server => server.ValidatingConnectionAsync += e =>
        {
            _connects.Enqueue($"{e.ClientId} {e.UserName}");
            return Task.CompletedTask;
        });
        await _web.StartAsync();
        var address = _web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _port = new Uri(address).Port;
    }

    public async Task DisposeAsync()
    {
        await _web.StopAsync();
        await _web.DisposeAsync();
        _certificates.Dispose();
    }

    [Fact]
    public void A_device_speaks_MQTT_over_secure_WebSockets()
    {
        var options = new DeviceOptions
        {
            HostName = "localhost",
            Transport = DeviceTransportKind.MqttWebSockets,
            EndpointPort = _port,
            TrustedCa = _certificates.Ca,
            Telemetry = new TelemetryOptions { Interval = TimeSpan.FromMilliseconds(50) },
        };
        var device = ChildActorOf(DeviceActor.Props(new DeviceIdentity("ws-device", 0, Key), new DeviceGroup(options, new DeviceMetrics(_metrics))));
        device.Tell(new DeviceActor.Start(options.Time.GetTimestamp()));

        AwaitCondition(() => _metrics.Counter(Counters.TelemetryAcked).Value >= 3, TimeSpan.FromSeconds(10));
        Assert.Equal("ws-device localhost/ws-device/?api-version=2021-04-12&DeviceClientType=FleetSim%2F1.0", _connects.First());
    }

    [Fact]
    public void A_wrong_WebSocket_path_is_a_connect_failure_that_is_retried()
    {
        var options = new DeviceOptions
        {
            HostName = "localhost",
            Transport = DeviceTransportKind.MqttWebSockets,
            WebSocketPath = "/not-mqtt",
            EndpointPort = _port,
            TrustedCa = _certificates.Ca,
            Telemetry = null,
        };
        var device = ChildActorOf(DeviceActor.Props(new DeviceIdentity("lost", 0, Key), new DeviceGroup(options, new DeviceMetrics(_metrics))));
        device.Tell(new DeviceActor.Start(options.Time.GetTimestamp()));

        AwaitCondition(() => _metrics.Counter(Counters.ConnectRetries).Value >= 2, TimeSpan.FromSeconds(10));
        Assert.Empty(_connects);
    }
}
