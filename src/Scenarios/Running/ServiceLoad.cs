using System.Text;
using System.Text.Json.Nodes;
using FleetSim.Protocol;
using FleetSim.Metrics;
using FleetSim.Reporting;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Service;
using FleetSim.Scenarios.Templates;

namespace FleetSim.Scenarios.Running;

/// <summary>
/// Service-side load (invoke methods, patch desired properties, send C2D) as an open model: call n of an action at
/// rate r is due n/r seconds after the start and its latency is measured from that moment, so a slow hub shows up as
/// latency, not as a lower rate. Calls run concurrently up to a bound per action; past it the generator itself is
/// the bottleneck, which is counted (and reported as a warning) instead of silently slowing the schedule.
/// Driven by the scenario runner's tick; not thread-safe except for the completions, which only touch metrics.
/// </summary>
public sealed class ServiceLoad
{
    public const int MaxOutstandingPerAction = 512;
    public const string MethodService = "methodRoundTrip";
    public const string DesiredPatch = "desiredPatch";
    public const string C2dSend = "c2dSend";
    public const string GeneratorOverloaded = "generator.overloaded";

    /// <summary>Calls not made because no device of the target was connected at their moment (not a hub failure).</summary>
    public const string NoTarget = "service.noConnectedTarget";

    private readonly Scenario _scenario;
    private readonly IServiceActions _actions;
    private readonly TimeProvider _time;
    private readonly ActionState[] _states;
    private readonly Counter _overloaded;
    private readonly Counter _noTarget;
    private readonly Random _random;
    private readonly CancellationToken _cancel;

    private readonly IReadOnlyList<ConnectedDevices>? _connected;
    private readonly int[] _groupOffsets;
    private readonly DateTimeOffset _templateStart;

    /// <param name="connected">Per group, which devices are connected: targets are drawn from those (null: any started device).</param>
    public ServiceLoad(Scenario scenario, IServiceActions actions, FleetMetrics metrics, TimeProvider? time = null, CancellationToken cancel = default,
        IReadOnlyList<ConnectedDevices>? connected = null)
    {
        _connected = connected;
        _scenario = scenario;
        _actions = actions;
        _time = time ?? TimeProvider.System;
        _cancel = cancel;
        _random = new Random(DeviceSeed.Derive(scenario.Seed, 0, DeviceSeed.Service));
        _overloaded = metrics.Counter(GeneratorOverloaded);
        _noTarget = metrics.Counter(NoTarget);
        _templateStart = _time.GetUtcNow();
        _groupOffsets = new int[scenario.DeviceGroups.Count];
        for (int g = 0, offset = 0; g < _groupOffsets.Length; offset += scenario.DeviceGroups[g].Count, g++)
            _groupOffsets[g] = offset;
        _states = new ActionState[scenario.Service.Count];
        for (var i = 0; i < _states.Length; i++)
        {
            var action = scenario.Service[i];
            var op = metrics.Operation(action switch
            {
                InvokeMethodAction => MethodService,
                PatchDesiredAction => DesiredPatch,
                _ => C2dSend,
            });
            _states[i] = new ActionState(action, op, DeviceSeed.Derive(scenario.Seed, i, DeviceSeed.Service), scenario.DeviceGroups.Count);
        }
    }

    /// <summary>Calls issued so far (all actions).</summary>
    public long Issued { get; private set; }

    /// <summary>Calls issued and not answered yet (all actions). Thread-safe.</summary>
    public int Outstanding
    {
        get
        {
            var sum = 0;
            foreach (var state in _states)
                sum += Volatile.Read(ref state.Outstanding);
            return sum;
        }
    }

    /// <summary>Longest the runner waits at the end for calls in flight before it stops the devices that would answer them.</summary>
    public static readonly TimeSpan MaxDrain = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Issues every call due by <paramref name="elapsed"/>. <paramref name="activeInGroup"/> says how many devices of each
    /// group are running (devices of a group start in index order, so those are indexes 0..n-1). While
    /// <paramref name="paused"/>, due calls are skipped, not queued.
    /// </summary>
    public void Tick(DateTimeOffset runStart, TimeSpan elapsed, IReadOnlyList<int> activeInGroup, bool paused)
    {
        foreach (var state in _states)
        {
            var rate = state.Action.RatePerSecond;
            if (rate <= 0)
                continue;
            while (true)
            {
                var due = TimeSpan.FromSeconds(state.Next / rate);
                if (due > elapsed)
                    break;
                state.Next++;
                if (paused)
                    continue;
                Issue(state, runStart + due, activeInGroup);
            }
        }
    }

    private void Issue(ActionState state, DateTimeOffset intended, IReadOnlyList<int> activeInGroup)
    {
        var target = state.Action.Target;
        if (target.Kind == ServiceTargetKind.All)
        {
            for (var g = 0; g < activeInGroup.Count; g++)
            {
                for (var i = 0; i < activeInGroup[g]; i++)
                {
                    if (_connected is null || _connected[g].IsConnected(i))
                        Call(state, g, i, intended);
                }
            }

            return;
        }

        var group = target.Kind == ServiceTargetKind.Group ? GroupIndex(target.GroupName!) : PickGroup(activeInGroup);
        var index = group < 0 || activeInGroup[group] == 0 ? -1 : PickDevice(group, activeInGroup[group]);
        if (index < 0)
        {
            _noTarget.Increment();
            return;
        }

        Call(state, group, index, intended);
    }

    /// <summary>A random started device of the group that is connected (a few draws, then a scan from a random point).</summary>
    private int PickDevice(int group, int active)
    {
        var index = _random.Next(active);
        if (_connected is null)
            return index;
        var connected = _connected[group];
        for (var attempt = 0; attempt < 8; attempt++, index = _random.Next(active))
        {
            if (connected.IsConnected(index))
                return index;
        }

        for (var i = 0; i < active; i++)
        {
            var candidate = (index + i) % active;
            if (connected.IsConnected(candidate))
                return candidate;
        }

        return -1;
    }

    private void Call(ActionState state, int group, int index, DateTimeOffset intended)
    {
        if (Volatile.Read(ref state.Outstanding) >= MaxOutstandingPerAction)
        {
            _overloaded.Increment();
            state.Operation.RecordFailure("generatorOverloaded");
            return;
        }

        Interlocked.Increment(ref state.Outstanding);
        Issued++;
        var task = Start(state, group, index);
        _ = task.ContinueWith(static (t, o) =>
        {
            var (s, intendedAt, time) = ((ActionState, DateTimeOffset, TimeProvider))o!;
            Interlocked.Decrement(ref s.Outstanding);
            if (t.IsCompletedSuccessfully && t.Result is null)
                s.Operation.RecordOk(time.GetUtcNow() - intendedAt);
            else
                s.Operation.RecordFailure(t.IsCompletedSuccessfully ? t.Result! : Reason(t.Exception?.GetBaseException()));
        }, (state, intended, _time), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Starts the call; the task's result is null on success, else the failure reason (a device's error status).</summary>
    private async Task<string?> Start(ActionState state, int group, int index)
    {
        var now = _time.GetUtcNow();
        var deviceId = _scenario.DeviceGroups[group].DeviceId(index);
        var templates = Templates(state, group, index, deviceId);
        switch (state.Action)
        {
            case InvokeMethodAction m:
                var payload = m.Payload is null ? null : JsonNode.Parse(Render(m.Payload, templates.Body, now));
                var status = await _actions.InvokeMethodAsync(deviceId, m.MethodName, payload, m.ResponseTimeout, m.ConnectTimeout, _cancel);
                return status is >= 200 and < 300 ? null : "status" + status;
            case PatchDesiredAction p:
                var patch = JsonNode.Parse(Render(p.Template, templates.Body, now)) as JsonObject ?? new JsonObject();
                patch[FleetSimProperties.SentAt] = now.ToUnixTimeMilliseconds(); // the device measures delivery from here
                await _actions.PatchDesiredAsync(deviceId, patch, _cancel);
                return null;
            case SendC2dAction c:
                var properties = new List<KeyValuePair<string, string?>>(c.Properties.Count + 1);
                for (var p = 0; p < c.Properties.Count; p++)
                    properties.Add(new(c.Properties[p].Key, c.Properties[p].Value.RenderToString(templates.Properties[p], now)));
                properties.Add(new(FleetSimProperties.SentAt, now.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture)));
                await _actions.SendC2dAsync(deviceId, Encoding.UTF8.GetBytes(Render(c.Template, templates.Body, now)), properties, _cancel);
                return null;
            default:
                return "unknownAction";
        }
    }

    private static string Render(PayloadTemplate? template, TemplateDeviceState? state, DateTimeOffset now) =>
        template is null || state is null ? "{}" : template.RenderToString(state, now);

    /// <summary>
    /// The target device's own template states for this action (body and each C2D property), created at its first call:
    /// {{deviceId}} is that device's id and {{counter}} and the seeded generators advance per device, as device-side
    /// templates do. Only the runner's tick calls this.
    /// </summary>
    private DeviceTemplates Templates(ActionState state, int group, int index, string deviceId)
    {
        var perGroup = state.Devices[group] ??= new DeviceTemplates?[_scenario.DeviceGroups[group].Count];
        if (perGroup[index] is { } existing)
            return existing;
        var global = _groupOffsets[group] + index;
        var body = state.Action switch
        {
            InvokeMethodAction m => m.Payload,
            PatchDesiredAction p => p.Template,
            SendC2dAction c => c.Template,
            _ => null,
        };
        var properties = state.Action is SendC2dAction { Properties: var list }
            ? list.Select((p, i) => p.Value.CreateState(deviceId, DeviceSeed.Derive(state.Seed, global, 1 + i), _templateStart)).ToArray()
            : [];
        return perGroup[index] = new DeviceTemplates(body?.CreateState(deviceId, DeviceSeed.Derive(state.Seed, global, 0), _templateStart), properties);
    }

    private static string Reason(Exception? e) => e switch
    {
        HubServiceException h when h.ErrorCode.Length > 0 => h.ErrorCode,
        HubServiceException h => "http" + (int)h.Status,
        TaskCanceledException or OperationCanceledException => "timeout",
        HttpRequestException => "network",
        null => "unknown",
        _ => e.GetType().Name,
    };

    private int GroupIndex(string name)
    {
        for (var g = 0; g < _scenario.DeviceGroups.Count; g++)
        {
            if (_scenario.DeviceGroups[g].Name == name)
                return g;
        }

        return -1;
    }

    private int PickGroup(IReadOnlyList<int> activeInGroup)
    {
        var total = 0;
        foreach (var n in activeInGroup)
            total += n;
        if (total == 0)
            return -1;
        var pick = _random.Next(total);
        for (var g = 0; g < activeInGroup.Count; g++)
        {
            if (pick < activeInGroup[g])
                return g;
            pick -= activeInGroup[g];
        }

        return -1;
    }

    private sealed record DeviceTemplates(TemplateDeviceState? Body, TemplateDeviceState[] Properties);

    private sealed class ActionState(ServiceAction action, OperationMetrics operation, int seed, int groups)
    {
        public ServiceAction Action { get; } = action;
        public OperationMetrics Operation { get; } = operation;

        /// <summary>Seed of this action; each target device's template states derive theirs from it and the device's index.</summary>
        public int Seed { get; } = seed;

        /// <summary>Per group, per device index: template states, created at the device's first call.</summary>
        public DeviceTemplates?[]?[] Devices { get; } = new DeviceTemplates?[]?[groups];
        public long Next;
        public int Outstanding;
    }
}
