using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.HubEmulator;
using FleetSim.HubEmulator.Faults;
using FleetSim.Metrics;
using Microsoft.Extensions.Time.Testing;
using DeviceIdentity = FleetSim.DeviceActors.DeviceIdentity;

namespace FleetSim.DeviceActors.Tests.Integration;

/// <summary>
/// The emulator's fault kinds against real device actors over MQTT/TLS on loopback. The hub runs on a fake clock,
/// so a fault's period ends when the test says so (devices keep real time: their timeouts are MQTTnet's).
/// </summary>
public sealed class HubFaultTests() : EmulatorTestKit(new FakeTimeProvider(DateTimeOffset.UtcNow))
{
    private DeviceOptions Options(TimeSpan interval) => DeviceOptions(interval) with
    {
        Retry = RetryPolicy.Exponential with { Base = TimeSpan.FromMilliseconds(100), Cap = TimeSpan.FromMilliseconds(500) },
    };

    private long Connected => Metrics.Gauge(Gauges.DevicesConnected).Value;

    private string Diagnose() =>
        $"connected {Connected}, lost {Count(Counters.ConnectionLost)}, connect failures " +
        string.Join(", ", Metrics.Snapshot().Operations[Operations.Connect].FailuresByReason) + ", counters " +
        string.Join(", ", Metrics.Snapshot().Counters.Where(c => c.Value > 0 && !c.Key.StartsWith("telemetry", StringComparison.Ordinal)));

    [Fact]
    public async Task A_hub_restart_drops_everyone_refuses_connections_while_down_and_keeps_state_for_the_return()
    {
        const int n = 12;
        var fleet = StartFleet(Register(n, "restart"), Options(TimeSpan.FromMilliseconds(200)));
        AwaitCondition(() => Connected == n && Count(Counters.TelemetryAcked) >= n * 2, TimeSpan.FromSeconds(30));

        var restart = await Hub.Faults.RestartAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("hub-restart", restart.Kind);
        Assert.Equal(n, restart.Affected);
        Assert.Equal(restart.Start + TimeSpan.FromSeconds(30), restart.End);
        AwaitCondition(() => Connected == 0 && Metrics.Operation(Operations.Connect).FailedCount >= n, TimeSpan.FromSeconds(20));
        using (var probe = new TcpClient())
        {
            var refused = await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync("127.0.0.1", Hub.MqttPort));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode); // the OS refuses: no listener, no CONNACK
        }

        var failures = Metrics.Snapshot().Operations[Operations.Connect].FailuresByReason;
        Assert.True(failures.GetValueOrDefault("network") >= n, string.Join(", ", failures));
        Assert.False(failures.ContainsKey("throttled")); // not CONNACK 3
        Assert.Equal(n, Hub.Registry.Count);

        HubTime.Advance(TimeSpan.FromSeconds(30)); // the hub is back
        AwaitCondition(() => Connected == n, TimeSpan.FromSeconds(30));
        var acked = Count(Counters.TelemetryAcked);
        AwaitCondition(() => Count(Counters.TelemetryAcked) >= acked + n * 2, TimeSpan.FromSeconds(30));
        StopFleet(fleet);

        Assert.Equal(n, Metrics.Operation(Operations.Reconnect).OkCount);
        Assert.Equal(0, Hub.Ingest.Totals.Lost);
        Assert.Equal(1, Hub.Faults.Restarts);
    }

    [Fact]
    public async Task Blackholed_devices_notice_through_the_publish_timeout_and_reconnect_while_the_rest_carry_on()
    {
        const int n = 10;
        var options = Options(TimeSpan.FromMilliseconds(300)) with { OperationTimeout = TimeSpan.FromSeconds(2) };
        var fleet = StartFleet(Register(n, "hole"), options);
        AwaitCondition(() => Connected == n && Count(Counters.TelemetryAcked) >= n * 2, TimeSpan.FromSeconds(30));

        var blackhole = await Hub.Faults.BlackholeAsync(0.5, TimeSpan.FromMinutes(10), null);

        Assert.Equal(5, blackhole.Affected);
        AwaitCondition(() => Count(Counters.ConnectionLost) >= 5, TimeSpan.FromSeconds(20));
        AwaitAssert(() => Assert.True(Connected == n, Diagnose()), TimeSpan.FromSeconds(20)); // new connections are not blackholed
        Assert.Equal(5, Count(Counters.ConnectionLost));
        Assert.True(Count(DeviceMetrics.ConnectionLostPrefix + "timeout") >= 5, "lost by timeout: the hub never closed anything");
        StopFleet(fleet);
    }

    [Fact]
    public async Task An_idle_device_in_a_blackhole_notices_through_its_keep_alive()
    {
        var options = Options(TimeSpan.FromHours(1)) with
        {
            KeepAlive = TimeSpan.FromSeconds(3),
            OperationTimeout = TimeSpan.FromSeconds(1),
            Telemetry = null,
        };
        var fleet = StartFleet(Register(2, "idle"), options);
        AwaitCondition(() => Connected == 2, TimeSpan.FromSeconds(30));

        var blackhole = await Hub.Faults.BlackholeAsync(1.0, TimeSpan.FromMinutes(10), FaultTarget.Of(["idle-1"]));

        Assert.Equal(["idle-1"], blackhole.AffectedDeviceIds);
        AwaitCondition(() => Count(DeviceMetrics.ConnectionLostPrefix + "timeout") == 1, TimeSpan.FromSeconds(15)); // no PINGRESP
        AwaitCondition(() => Connected == 2, TimeSpan.FromSeconds(15));
        Assert.Equal(1, Count(Counters.ConnectionLost));
        StopFleet(fleet);
    }

    [Fact]
    public async Task Devices_whose_tokens_the_hub_expires_come_back_with_renewed_tokens()
    {
        const int n = 10;
        var fleet = StartFleet(Register(n, "expire"), Options(TimeSpan.FromMilliseconds(200)));
        AwaitCondition(() => Connected == n, TimeSpan.FromSeconds(30));

        var expired = await Hub.Faults.ExpireTokensAsync(0.5, null);

        Assert.Equal(5, expired.Affected);
        AwaitCondition(() => Count(Counters.ConnectionLost) == 5 && Connected == n, TimeSpan.FromSeconds(20));
        Assert.Equal(5, Hub.Stats().DisconnectsByReason["sasTokenExpired"]);
        Assert.Equal(0, Metrics.Operation(Operations.Connect).FailedCount); // each renewed before it reconnected
        StopFleet(fleet);
        Assert.Equal(0, Count(DeviceMetrics.StoppedPrefix + "unauthorized"));
    }

    [Fact]
    public async Task Latency_slows_the_answers_to_the_targeted_devices_only()
    {
        await using var realHub = await IoTHubEmulator.StartAsync(new HubEmulatorOptions { MqttPort = 0, HttpsPort = 0 });
        using var ca = X509Certificate2.CreateFromPem(realHub.CaCertificatePem);
        realHub.Faults.AddLatency(TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(50), TimeSpan.FromMinutes(5), FaultTarget.Of(["slow-*"]));
        var slow = new FleetMetrics();
        var fast = new FleetMetrics();
        DeviceOptions options = new()
        {
            HostName = realHub.HostName,
            EndpointPort = realHub.MqttPort,
            TrustedCa = ca,
            Telemetry = new TelemetryOptions { Interval = TimeSpan.FromMilliseconds(500) },
        };
        IReadOnlyList<DeviceIdentity> Devices(string prefix) =>
            Enumerable.Range(0, 5).Select(i => new DeviceIdentity($"{prefix}-{i}", i, realHub.Registry.Add($"{prefix}-{i}").PrimaryKey)).ToArray();

        var slowFleet = StartFleet(Devices("slow"), options, metrics: slow);
        var fastFleet = StartFleet(Devices("fast"), options, metrics: fast);
        AwaitCondition(() => slow.Counter(Counters.TelemetryAcked).Value >= 20 && fast.Counter(Counters.TelemetryAcked).Value >= 20, TimeSpan.FromSeconds(30));
        StopFleet(slowFleet);
        StopFleet(fastFleet);

        var slowTelemetry = slow.Snapshot().Operations[Operations.Telemetry].Latency;
        var fastTelemetry = fast.Snapshot().Operations[Operations.Telemetry].Latency;
        Assert.True(slowTelemetry.P50Ms >= 340, $"slow devices: telemetry p50 {slowTelemetry.P50Ms} ms");
        Assert.True(fastTelemetry.P50Ms < 340, $"other devices: telemetry p50 {fastTelemetry.P50Ms} ms");
        Assert.True(slow.Snapshot().Operations[Operations.Connect].Latency.P50Ms >= 340, "CONNACK is an answer too");
    }

    [Fact]
    public async Task A_drop_limited_to_an_id_pattern_leaves_the_other_devices_connected()
    {
        var fleet = StartFleet([.. Register(4, "eu"), .. Register(4, "us").Select(d => d with { Index = d.Index + 4 })],
            Options(TimeSpan.FromSeconds(1)));
        AwaitCondition(() => Connected == 8, TimeSpan.FromSeconds(30));

        var dropped = await Hub.Faults.DropAsync(1.0, FaultTarget.Of(["eu-*"]));

        Assert.Equal(4, dropped.Affected);
        Assert.All(dropped.AffectedDeviceIds, id => Assert.StartsWith("eu-", id));
        AwaitCondition(() => Count(Counters.ConnectionLost) == 4 && Connected == 8, TimeSpan.FromSeconds(20));
        StopFleet(fleet);
    }
}
