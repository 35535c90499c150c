using System.Text.Json;
using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Mqtt;
using FleetSim.HubEmulator.Registry;
using FleetSim.Protocol;
using MQTTnet.Protocol;

namespace FleetSim.HubEmulator.Twins;

/// <summary>
/// Service-side twin updates (<c>PATCH</c>/<c>PUT /twins/{id}</c>): applies them and pushes the desired change to
/// the device on <c>$iothub/twin/PATCH/properties/desired/?$version=</c> while it is connected and subscribed.
/// </summary>
internal sealed class TwinService
{
    private readonly HubMqttServer _mqtt;
    private readonly TimeProvider _time;
    private long _desiredPushes;

    public TwinService(HubMqttServer mqtt, TimeProvider time)
    {
        _mqtt = mqtt;
        _time = time;
    }

    public long DesiredPushes => Interlocked.Read(ref _desiredPushes);

    /// <summary>Applies a service twin document (tags, properties.desired); pushes desired changes to the device.</summary>
    public async Task<TwinUpdate> UpdateAsync(RegisteredDevice device, JsonObject body, bool replace, string? ifMatch)
    {
        var tags = body["tags"];
        var desired = body["properties"]?["desired"];
        if ((tags is not null and not JsonObject) || (desired is not null and not JsonObject))
        {
            return TwinUpdate.Rejected("tags and properties.desired must be JSON objects.");
        }

        var desiredPatch = (JsonObject?)desired;
        if (desiredPatch is not null)
        {
            desiredPatch = (JsonObject)desiredPatch.DeepClone();
            desiredPatch.Remove("$metadata");
            desiredPatch.Remove("$version");
        }

        var (update, push) = device.Twin.UpdateFromService((JsonObject?)tags, desiredPatch, replace, ifMatch, _time.GetUtcNow());
        if (update.Ok && push is not null)
        {
            var sent = await DeviceDelivery.SendIfSubscribedAsync(
                _mqtt, device, DeviceSubscriptions.DesiredPatches, TwinTopics.DesiredPatch(update.Version),
                JsonSerializer.SerializeToUtf8Bytes(push), MqttQualityOfServiceLevel.AtMostOnce).ConfigureAwait(false);
            if (sent)
            {
                Interlocked.Increment(ref _desiredPushes);
            }
        }

        return update;
    }

}
