using System.Text.Json;

namespace FleetSim.Protocol;

/// <summary>IoT Hub error codes as the service REST API and the twin topics report them.</summary>
public static class IotHubErrors
{
    public sealed record Error(string Name, int Code, int HttpStatus);

    public static readonly Error ArgumentInvalid = new("ArgumentInvalid", 400004, 400);
    public static readonly Error InvalidProtocolVersion = new("InvalidProtocolVersion", 400001, 400);
    public static readonly Error IotHubUnauthorizedAccess = new("IotHubUnauthorizedAccess", 401002, 401);
    public static readonly Error DeviceNotFound = new("DeviceNotFound", 404001, 404);
    public static readonly Error DeviceNotOnline = new("DeviceNotOnline", 404103, 404);
    public static readonly Error DeviceAlreadyExists = new("DeviceAlreadyExists", 409001, 409);
    public static readonly Error PreconditionFailed = new("PreconditionFailed", 412002, 412);
    public static readonly Error MessageTooLarge = new("MessageTooLarge", 413001, 413);
    public static readonly Error ThrottlingException = new("ThrottlingException", 429001, 429);
    public static readonly Error ServerError = new("ServerError", 500001, 500);
    public static readonly Error ServiceUnavailable = new("ServiceUnavailable", 503001, 503);
    public static readonly Error GatewayTimeout = new("GatewayTimeout", 504101, 504);

    /// <summary>The service REST error body: <c>{"Message":"ErrorCode:{Name};{text}","ExceptionMessage":""}</c>.</summary>
    public static string RestBody(Error error, string text) =>
        JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["Message"] = $"ErrorCode:{error.Name};{text}",
            ["ExceptionMessage"] = "",
        });

    /// <summary>
    /// The newer service REST error body, with a JSON document inside <c>Message</c>, as IoT Hub answers a method call
    /// to an offline device (seen in 2024, azure-iot-sdk-csharp issue 3442):
    /// <c>{"Message":"{\"errorCode\":404103,\"trackingId\":\"…\",\"message\":\"…\",\"info\":{…},\"timestampUtc\":\"…\"}","ExceptionMessage":""}</c>.
    /// </summary>
    public static string RestBodyWithDetails(Error error, string text, IReadOnlyDictionary<string, string> info, DateTimeOffset now)
    {
        var inner = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["errorCode"] = error.Code,
            ["trackingId"] = $"{Guid.NewGuid():N}-TimeStamp:{now.UtcDateTime.ToString("MM/dd/yyyy HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)}",
            ["message"] = text,
            ["info"] = info,
            ["timestampUtc"] = now.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        });
        return JsonSerializer.Serialize(new Dictionary<string, string> { ["Message"] = inner, ["ExceptionMessage"] = "" });
    }

    /// <summary>The twin-topic error body the Node SDK looks for: <c>{"errorCode":…,"message":"…"}</c>.</summary>
    public static string TwinBody(Error error, string text) =>
        JsonSerializer.Serialize(new Dictionary<string, object> { ["errorCode"] = error.Code, ["message"] = text });
}
