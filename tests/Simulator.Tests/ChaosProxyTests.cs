using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using FleetSim.DeviceActors;
using FleetSim.DeviceActors.Proxy;
using FleetSim.DeviceActors.Transport;
using FleetSim.HubEmulator;
using FleetSim.HubEmulator.Faults;
using FleetSim.Protocol;
using FleetSim.Simulator.Chaos;
using Microsoft.Extensions.Time.Testing;

namespace FleetSim.Simulator.Tests;

/// <summary>
/// The chaos proxy's relay on loopback: a scripted upstream stands for the hub, devices open their tunnels with the
/// device side's own HTTP CONNECT provider. Fault periods and latency run on a fake clock. Where a test checks that
/// bytes are held back, it can only watch for a while (<see cref="Quiet"/>); the release is then awaited with a deadline.
/// </summary>
public sealed class ChaosProxyTests : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly Upstream _hub = new();
    private readonly ChaosProxy _proxy;
    private readonly List<IDisposable> _owned = [];

    public ChaosProxyTests() => _proxy = ChaosProxy.Start([_hub.EndPoint], _time, seed: 7);

    public async ValueTask DisposeAsync()
    {
        await _proxy.DisposeAsync();
        foreach (var owned in _owned)
            owned.Dispose();
        _hub.Dispose();
    }

    [Fact]
    public async Task Relays_bytes_both_ways_and_knows_the_device_of_each_tunnel()
    {
        var (device, hub) = await OpenAsync("dev-1");

        await device.WriteAsync("ping"u8.ToArray());
        Assert.Equal("ping", await ReadAsync(hub, 4));
        await hub.WriteAsync("pong"u8.ToArray());
        Assert.Equal("pong", await ReadAsync(device, 4));
        Assert.Equal(["dev-1"], _proxy.ConnectedDeviceIds());
    }

    [Fact]
    public async Task A_connect_to_anything_but_the_hub_is_forbidden_and_a_tunnel_must_name_its_device()
    {
        var elsewhere = await Assert.ThrowsAsync<MQTTnet.Exceptions.MqttProxyException>(() =>
            Provider("dev-1").ConnectAsync(new DnsEndPoint("hub.example.org", 8883), CancellationToken.None));
        Assert.Contains("403", elsewhere.Message);

        var anonymous = await Assert.ThrowsAsync<MQTTnet.Exceptions.MqttProxyException>(() =>
            Provider(deviceId: null).ConnectAsync(_hub.EndPoint, CancellationToken.None));
        Assert.Contains("400", anonymous.Message);
        Assert.Equal(0, _proxy.OpenTunnels);
    }

    [Fact]
    public async Task Cut_resets_every_tunnel_of_the_chosen_fraction_of_devices_and_leaves_the_others_relaying()
    {
        var tunnels = new Dictionary<string, (Stream Device, Stream Hub)>();
        foreach (var id in new[] { "a-1", "a-2", "b-1", "b-2" })
            tunnels[id] = await OpenAsync(id);

        var cut = _proxy.CutDevices(0.5, FaultTarget.Of(["a-*"]));

        Assert.Single(cut); // half of the two a- devices
        Assert.StartsWith("a-", cut[0], StringComparison.Ordinal);
        await AssertClosedAsync(tunnels[cut[0]].Device);
        foreach (var (id, (device, hub)) in tunnels.Where(t => t.Key != cut[0]))
        {
            await device.WriteAsync(Encoding.ASCII.GetBytes(id));
            Assert.Equal(id, await ReadAsync(hub, id.Length));
        }

        Assert.Equal(1, _proxy.Cut);
        Assert.True(_proxy.CutDevice("b-2"));
        await AssertClosedAsync(tunnels["b-2"].Device);
        Assert.False(_proxy.CutDevice("nobody"));
    }

    [Fact]
    public async Task Blackhole_keeps_the_tunnel_open_but_relays_nothing_until_the_period_ends()
    {
        var (device, hub) = await OpenAsync("dev-1");
        var (otherDevice, otherHub) = await OpenAsync("dev-2");

        Assert.Equal(["dev-1"], _proxy.Blackhole(1.0, TimeSpan.FromSeconds(10), FaultTarget.Of(["dev-1"])));
        await device.WriteAsync("up"u8.ToArray());
        await hub.WriteAsync("down"u8.ToArray());
        await otherDevice.WriteAsync("free"u8.ToArray());

        Assert.Equal("free", await ReadAsync(otherHub, 4)); // the other device is untouched
        var up = ReadAsync(hub, 2);
        var down = ReadAsync(device, 4);
        Assert.False(await Completes(up, Quiet), "bytes reached the hub through a blackhole");
        Assert.False(await Completes(down, Quiet), "bytes reached the device through a blackhole");

        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal("up", await up);
        Assert.Equal("down", await down);
    }

    [Fact]
    public async Task Latency_holds_back_what_the_hub_sends_in_order_and_not_what_the_device_sends()
    {
        var (device, hub) = await OpenAsync("dev-1");
        _proxy.AddLatency(TimeSpan.FromSeconds(2), TimeSpan.Zero, TimeSpan.FromMinutes(1));

        await device.WriteAsync("fast"u8.ToArray());
        Assert.Equal("fast", await ReadAsync(hub, 4));
        await hub.WriteAsync("slow"u8.ToArray());
        await hub.WriteAsync("er"u8.ToArray());
        var answer = ReadAsync(device, 6);
        Assert.False(await Completes(answer, Quiet), "the hub's bytes arrived before the latency");

        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal("slower", await answer);
    }

    [Fact]
    public async Task Refuse_resets_new_tunnels_of_the_targeted_devices_until_the_period_ends()
    {
        var (open, openHub) = await OpenAsync("dev-1");
        _proxy.Refuse(TimeSpan.FromSeconds(5), FaultTarget.Of(["dev-1"]));

        await Assert.ThrowsAsync<MQTTnet.Exceptions.MqttProxyException>(() => Provider("dev-1").ConnectAsync(_hub.EndPoint, CancellationToken.None));
        await OpenAsync("dev-2"); // not targeted
        await open.WriteAsync("still"u8.ToArray()); // a tunnel opened before stays
        Assert.Equal("still", await ReadAsync(openHub, 5));
        Assert.Equal(1, _proxy.Refused);

        _time.Advance(TimeSpan.FromSeconds(5));

        await OpenAsync("dev-1");
    }

    [Fact]
    public async Task Restart_cuts_every_tunnel_and_refuses_connections_until_the_listener_is_back()
    {
        var (device, _) = await OpenAsync("dev-1");
        await OpenAsync("dev-2");

        var cut = _proxy.Restart(TimeSpan.FromSeconds(5));

        Assert.Equal(["dev-1", "dev-2"], cut.Order(StringComparer.Ordinal));
        await AssertClosedAsync(device);
        Assert.True(_proxy.IsDown);
        using (var probe = new Socket(SocketType.Stream, ProtocolType.Tcp))
        {
            var refused = await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, _proxy.EndPoint.Port));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }

        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.False(_proxy.IsDown);
        await OpenAsync("dev-1");
    }

    [Fact]
    public async Task A_device_through_the_proxy_still_checks_the_hub_certificate_against_the_host_name_it_dialled()
    {
        // The hub listens on 127.0.0.2, which its certificate does not name (it names localhost and 127.0.0.1): a device
        // that dials 127.0.0.2 through the proxy must reject it, as it would without the proxy. The proxy relays TLS untouched.
        await using var emulator = await IoTHubEmulator.StartAsync(new HubEmulatorOptions
        {
            HostName = "localhost",
            MqttPort = 0,
            HttpsPort = 0,
            BindAddress = IPAddress.Parse("127.0.0.2"),
        });
        var key = emulator.Registry.Add("cert-1").PrimaryKey!;
        await using var proxy = ChaosProxy.Start([new DnsEndPoint("127.0.0.2", emulator.MqttPort)]);
        using var ca = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(emulator.CaCertificatePem);
        var options = new DeviceOptions
        {
            HostName = "localhost",
            EndpointHost = "127.0.0.2",
            EndpointPort = emulator.MqttPort,
            TrustedCa = ca,
            Relay = proxy.EndPoint,
        };
        Assert.Empty(options.Validate());
        var transport = new MqttDeviceTransportFactory().Create(new DeviceIdentity("cert-1", 0, key), options, new DeviceTopics("cert-1"));
        var token = SasToken.Create("localhost/devices/cert-1", key, DateTimeOffset.UtcNow.AddHours(1));

        var rejected = await Assert.ThrowsAsync<ServerCertificateRejectedException>(() => transport.ConnectAsync(token));

        Assert.Contains("host name does not match", rejected.Message);
    }

    private HttpConnectStreamProvider Provider(string? deviceId) =>
        new(new ProxyOptions(ProxyKind.Http, _proxy.EndPoint.Host, _proxy.EndPoint.Port), deviceId);

    /// <summary>A tunnel for <paramref name="deviceId"/>: the device's end and the hub's end of it.</summary>
    private async Task<(Stream Device, Stream Hub)> OpenAsync(string deviceId)
    {
        var device = await Provider(deviceId).ConnectAsync(_hub.EndPoint, CancellationToken.None);
        _owned.Add(device);
        using var cts = new CancellationTokenSource(Deadline);
        var hub = new NetworkStream(await _hub.Accepted.Reader.ReadAsync(cts.Token), ownsSocket: true);
        _owned.Add(hub);
        return (device, hub);
    }

    private static async Task<string> ReadAsync(Stream stream, int length)
    {
        using var cts = new CancellationTokenSource(Deadline);
        var buffer = new byte[length];
        await stream.ReadExactlyAsync(buffer, cts.Token);
        return Encoding.ASCII.GetString(buffer);
    }

    private static async Task<bool> Completes(Task task, TimeSpan within) => await Task.WhenAny(task, Task.Delay(within)) == task;

    /// <summary>The tunnel's device end ends (reset or closed) within the deadline.</summary>
    private static async Task AssertClosedAsync(Stream device)
    {
        using var cts = new CancellationTokenSource(Deadline);
        try
        {
            Assert.Equal(0, await device.ReadAsync(new byte[1], cts.Token));
        }
        catch (IOException)
        {
            // reset: also closed
        }
    }

    /// <summary>The hub's side: a loopback listener whose accepted sockets a test takes one by one.</summary>
    private sealed class Upstream : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();

        public Upstream()
        {
            _listener.Start();
            EndPoint = new DnsEndPoint("127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port);
            _ = AcceptAsync();
        }

        public DnsEndPoint EndPoint { get; }

        public Channel<Socket> Accepted { get; } = Channel.CreateUnbounded<Socket>();

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                    await Accepted.Writer.WriteAsync(await _listener.AcceptSocketAsync(_stop.Token));
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // stopped
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
            while (Accepted.Reader.TryRead(out var left))
                left.Dispose();
        }
    }
}
