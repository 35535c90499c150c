using FleetSim.Protocol;
using Microsoft.AspNetCore.Http;

namespace FleetSim.HubEmulator.Rest;

/// <summary>IoT Hub's REST error form: status, header <c>iothub-errorcode: {Name}</c> and body <c>{"Message":"ErrorCode:{Name};{text}","ExceptionMessage":""}</c>.</summary>
internal static class RestErrors
{
    public const string ErrorCodeHeader = "iothub-errorcode";

    public static IResult Error(IotHubErrors.Error error, string text) => new ErrorResult(error, IotHubErrors.RestBody(error, text));

    /// <summary>An error in the newer body form (a JSON document in <c>Message</c>), as the hub answers 404103.</summary>
    public static IResult ErrorWithDetails(IotHubErrors.Error error, string text, IReadOnlyDictionary<string, string> info, DateTimeOffset now) =>
        new ErrorResult(error, IotHubErrors.RestBodyWithDetails(error, text, info, now));

    public static IResult DeviceNotFound(string deviceId) =>
        Error(IotHubErrors.DeviceNotFound, $"Device {deviceId} not registered");

    public static IResult BadRequest(string text) => Error(IotHubErrors.ArgumentInvalid, text);

    /// <summary>429 ThrottlingException with <c>Retry-After</c> (seconds), as the hub answers an operation over its tier's throttle.</summary>
    public static IResult Throttled(string text, int retryAfterSeconds) =>
        new ErrorResult(IotHubErrors.ThrottlingException, IotHubErrors.RestBody(IotHubErrors.ThrottlingException, text), retryAfterSeconds);

    private sealed class ErrorResult(IotHubErrors.Error error, string body, int? retryAfterSeconds = null) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = error.HttpStatus;
            response.Headers[ErrorCodeHeader] = error.Name;
            if (retryAfterSeconds is { } seconds)
            {
                response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            response.ContentType = "application/json; charset=utf-8";
            return response.WriteAsync(body);
        }
    }
}
