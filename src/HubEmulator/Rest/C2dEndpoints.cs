using FleetSim.HubEmulator.C2d;
using FleetSim.Protocol;
using Microsoft.AspNetCore.Http;

namespace FleetSim.HubEmulator.Rest;

/// <summary>
/// Emulator extension <c>POST /devices/{id}/messages/deviceBound</c> (service SAS): the real hub sends C2D over
/// AMQP only, which the emulator does not speak. The request body is the message body; headers
/// <c>iothub-messageid</c>, <c>iothub-correlationid</c>, <c>iothub-userid</c>, <c>iothub-ack</c>, <c>iothub-expiry</c>,
/// <c>iothub-contenttype</c>, <c>iothub-contentencoding</c> set the system properties and <c>iothub-app-{name}</c>
/// headers the application properties (the HTTP Content-Type of the request is not a message property). 204 with <c>iothub-messageid</c>; 403004 when the device queue holds 50 messages.
/// </summary>
internal static class C2dEndpoints
{
    private static readonly IotHubErrors.Error QueueFull = new("DeviceMaximumQueueDepthExceeded", 403004, 403);

    public static async Task<IResult> SendAsync(HubServices hub, HttpRequest request, string id)
    {
        var device = hub.Registry.Find(id);
        if (device is null)
        {
            return RestErrors.DeviceNotFound(id);
        }

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted).ConfigureAwait(false);
        if (buffer.Length > MessageLimits.MaxMessageBytes)
        {
            return RestErrors.Error(IotHubErrors.MessageTooLarge, $"The message exceeds {MessageLimits.MaxMessageBytes} bytes.");
        }

        var headers = request.Headers;
        var messageId = Header(request, "iothub-messageid") ?? Guid.NewGuid().ToString();
        var properties = new List<KeyValuePair<string, string?>>();
        Add(properties, SystemProperties.CorrelationId, Header(request, "iothub-correlationid"));
        Add(properties, SystemProperties.UserId, Header(request, "iothub-userid"));
        Add(properties, SystemProperties.ExpiryTime, Header(request, "iothub-expiry"));
        Add(properties, SystemProperties.ContentType, Header(request, "iothub-contenttype"));
        Add(properties, SystemProperties.ContentEncoding, Header(request, "iothub-contentencoding"));
        Add(properties, SystemProperties.Ack, Header(request, "iothub-ack"));
        foreach (var (name, value) in headers)
        {
            if (name.StartsWith("iothub-app-", StringComparison.OrdinalIgnoreCase))
            {
                properties.Add(new(name["iothub-app-".Length..], value.ToString()));
            }
        }

        var message = new C2dMessage(messageId, buffer.ToArray(), properties);
        if (!await hub.C2d.SendAsync(device, message).ConfigureAwait(false))
        {
            return RestErrors.Error(QueueFull, $"Device {id} already has {CloudToDeviceMessages.MaxQueuedPerDevice} messages queued.");
        }

        request.HttpContext.Response.Headers["iothub-messageid"] = messageId;
        return Results.NoContent();
    }

    private static string? Header(HttpRequest request, string name)
    {
        var value = request.Headers[name].ToString();
        return value.Length == 0 ? null : value;
    }

    private static void Add(List<KeyValuePair<string, string?>> properties, string key, string? value)
    {
        if (value is not null)
        {
            properties.Add(new(key, value));
        }
    }
}
