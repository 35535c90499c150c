using System.Collections.Concurrent;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;

namespace FleetSim.HubEmulator.Tests;

/// <summary>Collects what the hub publishes to a test device.</summary>
internal sealed class DeviceInbox
{
    private readonly ConcurrentQueue<(string Topic, string Body)> _messages = new();

    public DeviceInbox(IMqttClient client)
    {
        client.ApplicationMessageReceivedAsync += e =>
        {
            _messages.Enqueue((e.ApplicationMessage.Topic, Encoding.UTF8.GetString(e.ApplicationMessage.Payload)));
            return Task.CompletedTask;
        };
    }

    public static async Task<DeviceInbox> SubscribeAsync(IMqttClient client, params string[] filters)
    {
        var inbox = new DeviceInbox(client);
        foreach (var filter in filters)
        {
            await client.SubscribeAsync(filter, MqttQualityOfServiceLevel.AtLeastOnce);
        }

        return inbox;
    }

    public async Task<(string Topic, string Body)> WaitForAsync(Func<string, bool> topicMatches, string what)
    {
        (string Topic, string Body) found = default;
        await TestHub.Eventually(
            () =>
            {
                foreach (var m in _messages)
                {
                    if (topicMatches(m.Topic))
                    {
                        found = m;
                        return true;
                    }
                }

                return false;
            },
            what);
        return found;
    }

    public int Count(Func<string, bool> topicMatches) => _messages.Count(m => topicMatches(m.Topic));
}
