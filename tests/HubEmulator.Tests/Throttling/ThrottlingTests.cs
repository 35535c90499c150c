using System.Globalization;
using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Throttling;
using FleetSim.Protocol;
using Microsoft.Extensions.Time.Testing;
using MQTTnet;
using MQTTnet.Protocol;

namespace FleetSim.HubEmulator.Tests.Throttling;

/// <summary>
/// Hub-wide quotas over real MQTT/TLS, on virtual time: the hub's clock only moves when the test advances it, so
/// "over the quota" and "a second later" are exact.
/// </summary>
public sealed class ThrottlingTests
{
    private const byte Accepted = 0;
    private const byte ServerUnavailable = 3;
    private const byte NotAuthorized = 5;

    [Fact]
    public async Task Connects_over_the_quota_get_connack_3_and_later_ones_succeed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var hub = await TestHub.StartAsync(o => { o.TimeProvider = time; o.Quotas.ConnectsPerSecond = 2; });
        var devices = Enumerable.Range(0, 4).Select(i => hub.Hub.Registry.Add($"d{i}")).ToArray();
        string User(int i) => MqttUsername.Build(hub.Hub.HostName, $"d{i}");

        Assert.Equal(Accepted, await hub.RawConnectAsync("d0", User(0), hub.DeviceToken(devices[0])));
        Assert.Equal(Accepted, await hub.RawConnectAsync("d1", User(1), hub.DeviceToken(devices[1])));
        Assert.Equal(ServerUnavailable, await hub.RawConnectAsync("d2", User(2), hub.DeviceToken(devices[2])));
        // Bad credentials are still "not authorized", not throttled (and do not spend the quota).
        Assert.Equal(NotAuthorized, await hub.RawConnectAsync("d3", User(3), hub.DeviceToken(devices[3], key: devices[0].PrimaryKey)));

        time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(Accepted, await hub.RawConnectAsync("d2", User(2), hub.DeviceToken(devices[2])));
        Assert.Equal(ServerUnavailable, await hub.RawConnectAsync("d3", User(3), hub.DeviceToken(devices[3])));
        time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(Accepted, await hub.RawConnectAsync("d3", User(3), hub.DeviceToken(devices[3])));

        var stats = hub.Hub.Stats();
        Assert.Equal(2, stats.RefusedByReason["throttled"]);
        Assert.Equal(2, stats.ThrottledConnects);
        Assert.Equal(4, stats.ConnectsAccepted);
        Assert.Equal(0, hub.Hub.Faults.RefusedConnects); // throttling is not a fault
    }

    [Fact]
    public async Task Twin_operations_over_the_quota_get_429_with_the_throttling_error_body()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var hub = await TestHub.StartAsync(o => { o.TimeProvider = time; o.Quotas.TwinOperationsPerSecond = 2; });
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;
        var inbox = await DeviceInbox.SubscribeAsync(client, TwinTopics.ResponseSubscription);

        await client.PublishStringAsync(TwinTopics.Get("r1"), " ", MqttQualityOfServiceLevel.AtLeastOnce);
        await client.PublishStringAsync(TwinTopics.PatchReported("r2"), """{"a":1}""", MqttQualityOfServiceLevel.AtLeastOnce);
        await client.PublishStringAsync(TwinTopics.Get("r3"), " ", MqttQualityOfServiceLevel.AtLeastOnce);
        await client.PublishStringAsync(TwinTopics.PatchReported("r4"), """{"a":2}""", MqttQualityOfServiceLevel.AtLeastOnce);

        Assert.Equal("$iothub/twin/res/200/?$rid=r1", (await Response(inbox, "r1")).Topic);
        Assert.Equal(TwinTopics.Response(204, "r2", 2), (await Response(inbox, "r2")).Topic);
        foreach (var rid in new[] { "r3", "r4" })
        {
            var (topic, body) = await Response(inbox, rid);
            Assert.Equal(TwinTopics.Response(429, rid), topic);
            var error = JsonNode.Parse(body)!;
            Assert.Equal(429001, (int)error["errorCode"]!);
            Assert.Contains("Throttled", (string)error["message"]!, StringComparison.Ordinal);
        }

        Assert.Equal(2, hub.Hub.Registry.Find("d1")!.Twin.ReportedVersion); // the throttled patch changed nothing
        time.Advance(TimeSpan.FromSeconds(1));
        await client.PublishStringAsync(TwinTopics.PatchReported("r5"), """{"a":3}""", MqttQualityOfServiceLevel.AtLeastOnce);
        Assert.Equal(TwinTopics.Response(204, "r5", 3), (await Response(inbox, "r5")).Topic);
        Assert.Equal(2, hub.Hub.Stats().ThrottledTwinOperations);
    }

    [Fact]
    public async Task Telemetry_over_the_quota_is_acknowledged_at_the_quota_and_ingested_exactly_once()
    {
        const int perDevice = 20;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var hub = await TestHub.StartAsync(o => { o.TimeProvider = time; o.Quotas.TelemetryPerSecond = 10; });
        var a = (await hub.ConnectNewDeviceAsync("a")).Client;
        var b = (await hub.ConnectNewDeviceAsync("b")).Client;
        using var _ = a;
        using var __ = b;

        var acks = new List<Task>();
        for (var i = 1; i <= perDevice; i++)
        {
            acks.Add(Publish(a, "a", i));
            acks.Add(Publish(b, "b", i));
        }

        // A burst of one second's quota is acknowledged at once, then 10 more per second of hub time, hub-wide.
        for (var second = 0; second <= 3; second++)
        {
            var expected = 10 + (10 * second);
            await TestHub.Eventually(() => acks.Count(t => t.IsCompleted) >= expected, $"{expected} PUBACKs at t={second}s");
            Assert.Equal(expected, acks.Count(t => t.IsCompleted));
            Assert.Equal(expected, hub.Hub.Ingest.Totals.Ingested);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        await Task.WhenAll(acks); // none failed
        var totals = hub.Hub.Ingest.Totals;
        Assert.Equal(2 * perDevice, totals.Ingested);
        Assert.Equal(0, totals.Duplicated);
        Assert.Equal(0, totals.Lost);
        Assert.Equal(0, totals.OutOfOrder);
        // Counted: messages that had to wait for their slot (the rest found one free when their turn came).
        Assert.InRange(hub.Hub.Stats().ThrottledTelemetryDelayed, 2, 2 * perDevice - 10);
    }

    [Fact]
    public async Task Unset_quotas_throttle_nothing()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;
        var acks = Enumerable.Range(1, 50).Select(i => Publish(client, "d1", i)).ToArray();
        await Task.WhenAll(acks);
        Assert.Equal(50, hub.Hub.Ingest.Totals.Ingested);
        Assert.Equal(0, hub.Hub.Stats().ThrottledTelemetryDelayed);
    }

    [Theory]
    [InlineData(nameof(ThrottlingQuotas.ConnectsPerSecond), 0.0)]
    [InlineData(nameof(ThrottlingQuotas.ConnectsPerSecond), -1.0)]
    [InlineData(nameof(ThrottlingQuotas.TelemetryPerSecond), double.NaN)]
    [InlineData(nameof(ThrottlingQuotas.TelemetryPerSecond), double.PositiveInfinity)]
    [InlineData(nameof(ThrottlingQuotas.TwinOperationsPerSecond), 2e9)]
    public async Task Bad_quotas_are_refused_naming_the_quota(string quota, double value)
    {
        var options = new HubEmulatorOptions { MqttPort = 0, HttpsPort = 0 };
        typeof(ThrottlingQuotas).GetProperty(quota)!.SetValue(options.Quotas, value);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => IoTHubEmulator.StartAsync(options));
        Assert.Contains("Quotas." + quota, error.Message, StringComparison.Ordinal);
        Assert.Contains("more than 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fractional_and_very_high_quotas_are_valid()
    {
        var quotas = new ThrottlingQuotas { ConnectsPerSecond = 0.5, TelemetryPerSecond = ThrottlingQuotas.MaxRate, TwinOperationsPerSecond = null };
        quotas.Validate();
        new HubEmulatorOptions { Quotas = quotas }.Validate();
        Assert.Throws<ArgumentNullException>(() => new HubEmulatorOptions { Quotas = null! }.Validate());
    }

    private static Task<(string Topic, string Body)> Response(DeviceInbox inbox, string rid) =>
        inbox.WaitForAsync(t => t.EndsWith("$rid=" + rid, StringComparison.Ordinal) || t.Contains("$rid=" + rid + "&", StringComparison.Ordinal), "the response to " + rid);

    private static Task Publish(IMqttClient client, string deviceId, int sequence)
    {
        var bag = PropertyBag.Encode([new(FleetSimProperties.Sequence, sequence.ToString(CultureInfo.InvariantCulture))]);
        return client.PublishStringAsync(new DeviceTopics(deviceId).Telemetry(bag), "{}", MqttQualityOfServiceLevel.AtLeastOnce);
    }
}
