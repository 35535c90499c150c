using System.Globalization;
using FleetSim.Protocol;
using MQTTnet;
using MQTTnet.Protocol;

namespace FleetSim.HubEmulator.Tests.Ingest;

public sealed class FleetIngestTests
{
    [Fact]
    public async Task Fifty_devices_sending_concurrently_are_each_ingested_exactly_once()
    {
        const int devices = 50, messages = 20;
        await using var hub = await TestHub.StartAsync();
        var clients = await Task.WhenAll(Enumerable.Range(0, devices).Select(i => hub.ConnectNewDeviceAsync($"fleet-{i}")));

        await Task.WhenAll(clients.Select(async c =>
        {
            var topics = new DeviceTopics(c.Device.DeviceId);
            for (var seq = 1; seq <= messages; seq++)
            {
                var result = await c.Client.PublishStringAsync(
                    topics.Telemetry(FleetSimProperties.Sequence + "=" + seq.ToString(CultureInfo.InvariantCulture)), "{}", MqttQualityOfServiceLevel.AtLeastOnce);
                Assert.True(result.IsSuccess);
            }
        }));

        var totals = hub.Hub.Ingest.Totals;
        Assert.Equal((devices * messages, 0, 0, 0, devices), (totals.Ingested, totals.Lost, totals.Duplicated, totals.OutOfOrder, totals.Devices));
        Assert.All(hub.Hub.Ingest.Devices(), d => Assert.Equal(messages, d.HighestSequence));
        foreach (var (_, client) in clients)
        {
            client.Dispose();
        }
    }
}
