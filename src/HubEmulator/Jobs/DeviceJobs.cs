using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Methods;
using FleetSim.HubEmulator.Registry;
using FleetSim.HubEmulator.Twins;

namespace FleetSim.HubEmulator.Jobs;

/// <summary>What a job does to each device its query condition selects.</summary>
internal abstract record JobAction;

/// <summary>scheduleDeviceMethod: invoke a direct method on every selected device.</summary>
internal sealed record MethodJobAction(string MethodName, JsonNode? Payload, TimeSpan ResponseTimeout, TimeSpan ConnectTimeout) : JobAction;

/// <summary>scheduleUpdateTwin: merge tags and desired properties into every selected device's twin.</summary>
internal sealed record TwinJobAction(JsonObject Patch) : JobAction;

/// <summary>A job as IoT Hub reports it (JobResponse); counts change while it runs.</summary>
internal sealed class DeviceJob(string id, string type, string queryCondition, JsonObject request, DateTimeOffset created, DateTimeOffset start, int maxSeconds)
{
    private int _pending;
    private int _running;
    private int _succeeded;
    private int _failed;

    public string Id { get; } = id;
    public string Type { get; } = type;
    public string QueryCondition { get; } = queryCondition;
    public JsonObject Request { get; } = request;
    public DateTimeOffset Created { get; } = created;
    public DateTimeOffset Start { get; } = start;
    public int MaxExecutionSeconds { get; } = maxSeconds;
    public volatile string Status = "queued";
    public string? FailureReason { get; set; }
    public DateTimeOffset? End { get; set; }
    public int DeviceCount { get; set; }

    public void Pending(int count) => Interlocked.Exchange(ref _pending, count);

    public void Running()
    {
        Interlocked.Decrement(ref _pending);
        Interlocked.Increment(ref _running);
    }

    public void Finished(bool ok)
    {
        Interlocked.Decrement(ref _running);
        if (ok)
        {
            Interlocked.Increment(ref _succeeded);
        }
        else
        {
            Interlocked.Increment(ref _failed);
        }
    }

    public (int Pending, int Running, int Succeeded, int Failed) Counts =>
        (Volatile.Read(ref _pending), Volatile.Read(ref _running), Volatile.Read(ref _succeeded), Volatile.Read(ref _failed));
}

/// <summary>
/// Jobs v2 (<c>PUT/GET /jobs/v2/{id}</c>): a job selects devices by a query condition at its start time and applies its
/// action to each (32 at a time), counting per-device outcomes; jobs run on the hub in the background, as on IoT Hub.
/// </summary>
internal sealed class DeviceJobs(
    DeviceRegistry registry, DirectMethods methods, TwinService twins, TimeProvider time, Func<RegisteredDevice, string[], JsonNode?> resolve)
{
    private const int Parallelism = 32;
    private readonly ConcurrentDictionary<string, DeviceJob> _jobs = new(StringComparer.Ordinal);

    public DeviceJob? Find(string id) => _jobs.TryGetValue(id, out var job) ? job : null;

    /// <summary>Adds and starts the job; false when a job with this id exists.</summary>
    public bool TryStart(DeviceJob job, DeviceQuery query, JobAction action)
    {
        if (!_jobs.TryAdd(job.Id, job))
        {
            return false;
        }

        _ = Task.Run(() => RunAsync(job, query, action));
        return true;
    }

    private async Task RunAsync(DeviceJob job, DeviceQuery query, JobAction action)
    {
        var wait = job.Start - time.GetUtcNow();
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, time).ConfigureAwait(false);
        }

        var selected = registry.All.Where(d => query.Matches(path => resolve(d, path))).ToList();
        job.DeviceCount = selected.Count;
        job.Pending(selected.Count);
        job.Status = "running";
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(job.MaxExecutionSeconds), time);
        try
        {
            await Parallel.ForEachAsync(selected, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = limit.Token }, async (device, ct) =>
            {
                job.Running();
                job.Finished(await ApplyAsync(device, action, ct).ConfigureAwait(false));
            }).ConfigureAwait(false);
            job.Status = "completed";
        }
        catch (OperationCanceledException)
        {
            job.FailureReason = $"The job did not finish within maxExecutionTimeInSeconds ({job.MaxExecutionSeconds}).";
            job.Status = "failed";
        }

        job.End = time.GetUtcNow();
    }

    private async Task<bool> ApplyAsync(RegisteredDevice device, JobAction action, CancellationToken ct)
    {
        switch (action)
        {
            case MethodJobAction m:
                var result = await methods.InvokeAsync(device, m.MethodName, m.Payload, m.ResponseTimeout, m.ConnectTimeout, ct).ConfigureAwait(false);
                return result.Outcome == MethodOutcome.Answered;
            case TwinJobAction t:
                var update = await twins.UpdateAsync(device, (JsonObject)t.Patch.DeepClone(), replace: false, ifMatch: null).ConfigureAwait(false);
                return update.Ok;
            default:
                return false;
        }
    }
}
