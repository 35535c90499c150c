using System.Globalization;
using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Jobs;
using FleetSim.HubEmulator.Registry;
using FleetSim.HubEmulator.Twins;
using Microsoft.AspNetCore.Http;

namespace FleetSim.HubEmulator.Rest;

/// <summary>
/// Jobs v2 (azure-iothub <c>JobClient.scheduleDeviceMethod</c>, <c>scheduleTwinUpdate</c>, <c>getJob</c>):
/// <c>PUT /jobs/v2/{id}</c> with <c>{"jobId", "type": "scheduleDeviceMethod"|"scheduleUpdateTwin", "queryCondition",
/// "startTime", "maxExecutionTimeInSeconds", "cloudToDeviceMethod"|"updateTwin"}</c> answers the JobResponse;
/// <c>GET /jobs/v2/{id}</c> its status (<c>queued</c>, <c>running</c>, <c>completed</c>, <c>failed</c>) and
/// <c>deviceJobStatistics</c>. The query condition is a WHERE clause of the device query language. A partitioned hub
/// runs a job on every partition and adds up the statistics.
/// </summary>
internal static class JobEndpoints
{
    public static async Task<IResult> PutAsync(HubServices hub, HttpRequest request, string id)
    {
        var body = await JsonBody.ObjectOrNullAsync(request).ConfigureAwait(false);
        if (body is null)
        {
            return RestErrors.BadRequest("The request body is not a job JSON object.");
        }

        var type = Text(body, "type");
        var condition = Text(body, "queryCondition");
        if (condition is null)
        {
            return RestErrors.BadRequest("queryCondition is required: a WHERE clause such as deviceId IN ['a', 'b'] or tags.site = 'x'.");
        }

        DeviceQuery query;
        try
        {
            query = DeviceQuery.Parse("SELECT * FROM devices WHERE " + condition);
        }
        catch (FormatException e)
        {
            return RestErrors.BadRequest($"queryCondition '{condition}' is not supported: {e.Message}.");
        }

        JobAction action;
        switch (type)
        {
            case "scheduleDeviceMethod":
                if (body["cloudToDeviceMethod"] is not JsonObject method || Text(method, "methodName") is not { } name)
                {
                    return RestErrors.BadRequest("scheduleDeviceMethod needs cloudToDeviceMethod.methodName.");
                }

                action = new MethodJobAction(name, method["payload"]?.DeepClone(),
                    TimeSpan.FromSeconds(Seconds(method, "responseTimeoutInSeconds", 30)), TimeSpan.FromSeconds(Seconds(method, "connectTimeoutInSeconds", 0)));
                break;
            case "scheduleUpdateTwin":
                if (body["updateTwin"] is not JsonObject twin)
                {
                    return RestErrors.BadRequest("scheduleUpdateTwin needs updateTwin with tags and/or properties.desired.");
                }

                var patch = new JsonObject();
                if (twin["tags"] is JsonObject tags)
                {
                    patch["tags"] = tags.DeepClone();
                }

                if (twin["properties"]?["desired"] is JsonObject desired)
                {
                    patch["properties"] = new JsonObject { ["desired"] = desired.DeepClone() };
                }

                action = new TwinJobAction(patch);
                break;
            default:
                return RestErrors.BadRequest($"job type '{type}' is not supported: expected scheduleDeviceMethod or scheduleUpdateTwin.");
        }

        var now = hub.Time.GetUtcNow();
        var start = Text(body, "startTime") is { } startText && DateTimeOffset.TryParse(startText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : now;
        var job = new DeviceJob(id, type, condition, body, now, start, Seconds(body, "maxExecutionTimeInSeconds", 3600));
        return hub.Jobs.TryStart(job, query, action)
            ? DeviceEndpoints.Json(Json(job))
            : RestErrors.Error(new FleetSim.Protocol.IotHubErrors.Error("JobAlreadyExists", 409002, 409), $"A job with id '{id}' exists.");
    }

    public static IResult Get(HubServices hub, string id) =>
        hub.Jobs.Find(id) is { } job
            ? DeviceEndpoints.Json(Json(job))
            : RestErrors.Error(new FleetSim.Protocol.IotHubErrors.Error("JobNotFound", 404002, 404), $"Job {id} not found.");

    private static JsonObject Json(DeviceJob job)
    {
        var (pending, running, succeeded, failed) = job.Counts;
        return new JsonObject
        {
            ["jobId"] = job.Id,
            ["queryCondition"] = job.QueryCondition,
            ["createdTime"] = DeviceTwin.Timestamp(job.Created),
            ["startTime"] = DeviceTwin.Timestamp(job.Start),
            ["endTime"] = job.End is { } end ? DeviceTwin.Timestamp(end) : null,
            ["maxExecutionTimeInSeconds"] = job.MaxExecutionSeconds,
            ["type"] = job.Type,
            ["cloudToDeviceMethod"] = job.Request["cloudToDeviceMethod"]?.DeepClone(),
            ["updateTwin"] = job.Request["updateTwin"]?.DeepClone(),
            ["status"] = job.Status,
            ["failureReason"] = job.FailureReason,
            ["statusMessage"] = null,
            ["deviceJobStatistics"] = new JsonObject
            {
                ["deviceCount"] = job.DeviceCount,
                ["failedCount"] = failed,
                ["succeededCount"] = succeeded,
                ["runningCount"] = running,
                ["pendingCount"] = pending,
            },
        };
    }

    private static int Seconds(JsonObject obj, string name, int fallback) =>
        obj[name] is JsonValue v && v.TryGetValue<int>(out var seconds) && seconds >= 0 ? seconds : fallback;

    private static string? Text(JsonObject obj, string name) =>
        obj[name] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;
}
