namespace FleetSim.Scenarios.Model;

/// <summary>
/// A validated scenario: everything a run needs, immutable. Built only by <c>ScenarioLoader</c>, so every
/// instance has passed validation (counts positive, phases within the fleet, templates compiled).
/// </summary>
public sealed record Scenario(
    string Name,
    string? Description,
    HubSpec Hub,
    IReadOnlyList<DeviceGroup> DeviceGroups,
    IReadOnlyList<LoadPhase> Load,
    IReadOnlyList<ServiceAction> Service,
    Thresholds Thresholds,
    TimeSpan Duration,
    int Seed)
{
    /// <summary>
    /// <c>connectsInFlight</c>: at most this many connects (TLS + CONNACK + SUBACK) at once in each process that hosts
    /// devices (the run, or each cluster worker); further devices wait for a slot. Null: the default,
    /// <see cref="FleetSim.DeviceActors.ConnectSlots.DefaultLimit"/>.
    /// </summary>
    public int? ConnectsInFlight { get; init; }

    /// <summary>Devices over all groups.</summary>
    public int TotalDevices
    {
        get
        {
            var total = 0;
            foreach (var group in DeviceGroups)
            {
                total += group.Count;
            }
            return total;
        }
    }

    /// <summary>The group with this name, or null.</summary>
    public DeviceGroup? Group(string name)
    {
        foreach (var group in DeviceGroups)
        {
            if (string.Equals(group.Name, name, StringComparison.Ordinal))
            {
                return group;
            }
        }
        return null;
    }

    /// <summary>Every device id of the group named <paramref name="name"/>, or null when there is no such group.</summary>
    public IReadOnlyList<string>? GroupDeviceIds(string name)
    {
        if (Group(name) is not { } group)
            return null;
        var ids = new string[group.Count];
        for (var i = 0; i < ids.Length; i++)
            ids[i] = group.DeviceId(i);
        return ids;
    }

    /// <summary>The group and index of the device with this id, if the scenario defines it.</summary>
    public bool TryFindDevice(string deviceId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out DeviceGroup? group, out int index)
    {
        foreach (var candidate in DeviceGroups)
        {
            if (candidate.Ids.TryParseIndex(deviceId, candidate.Count, out index))
            {
                group = candidate;
                return true;
            }
        }
        group = null;
        index = -1;
        return false;
    }

    /// <summary>
    /// The same scenario at another size (CI runs shipped scenarios small): device counts, phase device
    /// targets, inject and service rates, and count/throughput thresholds are multiplied by
    /// <paramref name="factor"/>. Per-device rates, durations and latency rules are unchanged. A group never
    /// drops below 1 device or grows past its connection-strings list, and no phase asks for more devices than the scaled fleet has.
    /// </summary>
    public Scenario Scale(double factor)
    {
        if (!(factor > 0) || double.IsInfinity(factor))
        {
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "The scale factor must be a positive number.");
        }
        var groups = new List<DeviceGroup>(DeviceGroups.Count);
        var total = 0;
        foreach (var group in DeviceGroups)
        {
            var count = ScaleCount(group.Count, factor, minimum: 1);
            if (group.ConnectionStrings is { } listed)
            {
                count = Math.Min(count, listed.Entries.Count); // a listed group cannot grow past its list
            }
            groups.Add(group with { Count = count });
            total += count;
        }
        var phases = new List<LoadPhase>(Load.Count);
        foreach (var phase in Load)
        {
            phases.Add(phase switch
            {
                RampPhase ramp => ramp with { To = Math.Min(total, ScaleCount(ramp.To, factor, ramp.To > 0 ? 1 : 0)) },
                RampDownPhase down => down with { To = Math.Min(total, ScaleCount(down.To, factor, 0)) },
                InjectPhase inject => inject with { PerSecond = inject.PerSecond * factor },
                _ => phase,
            });
        }
        var actions = new List<ServiceAction>(Service.Count);
        foreach (var action in Service)
        {
            actions.Add(action with { RatePerSecond = action.RatePerSecond * factor });
        }
        var rules = new List<ThresholdRule>(Thresholds.Rules.Count);
        foreach (var rule in Thresholds.Rules)
        {
            rules.Add(rule.Metric is ThresholdMetric.Count or ThresholdMetric.Throughput
                ? rule with { Value = rule.Metric == ThresholdMetric.Count ? Math.Floor(rule.Value * factor) : rule.Value * factor }
                : rule);
        }
        // The embedded hub's quotas scale with the fleet, so a scaled-down run meets the same relative throttling.
        var hub = Hub is EmbeddedHub { Options.Quotas: var q } embedded
            ? embedded with { Options = embedded.Options with { Quotas = new HubQuotas(q.ConnectsPerSecond * factor, q.TelemetryPerSecond * factor, q.TwinOperationsPerSecond * factor) } }
            : Hub;
        return this with
        {
            Hub = hub,
            DeviceGroups = groups,
            Load = phases,
            Service = actions,
            Thresholds = Thresholds with { Rules = rules },
        };
    }

    private static int ScaleCount(int count, double factor, int minimum) =>
        (int)Math.Max(minimum, Math.Min(int.MaxValue, Math.Round(count * factor, MidpointRounding.AwayFromZero)));
}
