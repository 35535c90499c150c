using FleetSim.Scenarios.Model;
using YamlDotNet.RepresentationModel;

namespace FleetSim.Scenarios.Parsing;

/// <summary>The top level: name, hub, devices (short form) or deviceGroups, load, service, thresholds, duration, seed.</summary>
internal static class ScenarioParser
{
    public const int DefaultSeed = 1;
    public const string ShortFormGroupName = "devices";
    public const int MaxConnectsInFlight = 100_000;

    public static Scenario? Parse(ParseContext ctx, YamlNode root)
    {
        var top = ObjectReader.Open(ctx, root, SchemaCatalog.Root, "the scenario");
        if (top is null)
        {
            return null;
        }
        var name = top.String("name");
        if (name is not null && string.IsNullOrWhiteSpace(name))
        {
            ctx.Error(top.Get("name")!, "name must not be empty");
        }
        var description = top.String("description");
        var seed = top.Int("seed", int.MinValue, int.MaxValue) ?? DefaultSeed;
        var hub = HubParser.Parse(ctx, top.Get("hub"));
        var duration = top.Duration("duration", TimeSpan.FromMilliseconds(1));
        var connectsInFlight = top.Int("connectsInFlight", 1, MaxConnectsInFlight);

        var errorsBeforeGroups = ctx.Errors.Count;
        var (groups, connectRate) = Groups(ctx, top, hub);
        var groupsValid = ctx.Errors.Count == errorsBeforeGroups && groups.Count > 0;
        var total = 0;
        foreach (var group in groups)
        {
            total += group.Count;
        }

        IReadOnlyList<LoadPhase> load;
        if (top.Get("load") is { } loadNode)
        {
            if (connectRate is not null)
            {
                ctx.Error(top.Get("devices")!, "devices.connectRate is only used without load phases", "remove connectRate, or set the pace with a ramp phase");
            }
            load = LoadParser.Parse(ctx, loadNode, groupsValid ? total : int.MaxValue);
        }
        else if (duration is { } length)
        {
            var over = connectRate is { } rate ? TimeSpan.FromSeconds(total / rate) : TimeSpan.Zero;
            if (over > length)
            {
                over = length;
            }
            load = [new RampPhase(total, over, null), new HoldPhase(length - over, null)];
        }
        else
        {
            if (!top.Has("duration"))
            {
                ctx.Error(root, "the scenario needs a duration (or load phases)", "e.g. duration: 30s");
            }
            load = [];
        }
        var service = ServiceParser.Parse(ctx, top.Get("service"), groups);
        var thresholds = ThresholdParser.Parse(ctx, top.Get("thresholds"));
        var runLength = duration ?? Sum(load);
        if (top.Has("load") && duration is null && runLength == TimeSpan.Zero && ctx.Errors.Count == 0)
        {
            ctx.Error(top.Get("load")!, "the load phases last 0s in total", "give the phases durations, or set duration");
        }
        CheckFaultTimes(ctx, top, hub, runLength);
        if (ctx.Errors.Count > 0 || name is null || hub is null)
        {
            return null;
        }
        var scenario = new Scenario(name, description, hub, groups, load, service, thresholds, runLength, seed) { ConnectsInFlight = connectsInFlight };
        CheckFaultDevices(ctx, top, scenario);
        return ctx.Errors.Count > 0 ? null : scenario;
    }

    /// <summary>dropConnections.deviceId must name a device of the fleet; a fault's group must exist.</summary>
    private static void CheckFaultDevices(ParseContext ctx, ObjectReader top, Scenario scenario)
    {
        foreach (var (specs, faults) in FaultLists(top, scenario.Hub))
        {
            CheckFaultDevices(ctx, scenario, specs, faults);
        }
    }

    private static void CheckFaultDevices(ParseContext ctx, Scenario scenario, IReadOnlyList<FaultSpec> specs, YamlSequenceNode faults)
    {
        for (var i = 0; i < faults.Children.Count && i < specs.Count; i++)
        {
            if (specs[i] is DropConnectionsFault { DeviceId: { } id } && !scenario.TryFindDevice(id, out _, out _))
            {
                ctx.Error(faults.Children[i], $"dropConnections names device '{id}', which no device group defines",
                    "ids: " + string.Join(", ", scenario.DeviceGroups.Select(g => $"{g.DeviceId(0)}..{g.DeviceId(g.Count - 1)}")));
            }
            if (specs[i].Target is { Group: { } group } && scenario.Group(group) is null)
            {
                var node = faults.Children[i] is YamlMappingNode f && f.Children.TryGetValue(new YamlScalarNode("group"), out var g) ? g : faults.Children[i];
                ctx.Error(node, $"fault targets group '{group}', which is not defined",
                    "groups: " + string.Join(", ", scenario.DeviceGroups.Select(d => d.Name)));
            }
        }
    }

    private static YamlSequenceNode? FaultNodes(ObjectReader top) =>
        top.Get("hub") is YamlMappingNode hubNode
        && hubNode.Children.TryGetValue(new YamlScalarNode("embedded"), out var embeddedNode)
        && embeddedNode is YamlMappingNode embeddedMap
        && embeddedMap.Children.TryGetValue(new YamlScalarNode("faults"), out var faultsNode)
            ? faultsNode as YamlSequenceNode
            : null;

    /// <summary>hub.embedded.faults and hub.chaos, each with its YAML list (when every item parsed).</summary>
    private static IEnumerable<(IReadOnlyList<FaultSpec> Specs, YamlSequenceNode Nodes)> FaultLists(ObjectReader top, HubSpec? hub)
    {
        if (hub is EmbeddedHub embedded && FaultNodes(top) is { } faults && faults.Children.Count == embedded.Options.Faults.Count)
        {
            yield return (embedded.Options.Faults, faults);
        }
        if (hub is { Chaos.Count: > 0 } && top.Get("hub") is YamlMappingNode hubNode
            && hubNode.Children.TryGetValue(new YamlScalarNode("chaos"), out var chaosNode) && chaosNode is YamlSequenceNode chaos
            && chaos.Children.Count == hub.Chaos.Count)
        {
            yield return (hub.Chaos, chaos);
        }
    }

    /// <summary>A fault scheduled at or after the end of the run would never happen: say so.</summary>
    private static void CheckFaultTimes(ParseContext ctx, ObjectReader top, HubSpec? hub, TimeSpan runLength)
    {
        if (runLength <= TimeSpan.Zero)
        {
            return;
        }
        foreach (var (specs, faults) in FaultLists(top, hub))
        {
            CheckFaultTimes(ctx, specs, faults, runLength);
        }
    }

    private static void CheckFaultTimes(ParseContext ctx, IReadOnlyList<FaultSpec> specs, YamlSequenceNode faults, TimeSpan runLength)
    {
        for (var i = 0; i < faults.Children.Count; i++)
        {
            var at = specs[i].At;
            if (at >= runLength)
            {
                var node = faults.Children[i] is YamlMappingNode f && f.Children.TryGetValue(new YamlScalarNode("at"), out var atNode) ? atNode : faults.Children[i];
                ctx.Error(node, $"fault at {DurationText.Format(at)} would never happen: the run lasts {DurationText.Format(runLength)}", "move it earlier or lengthen the run");
            }
        }
    }

    private static TimeSpan Sum(IReadOnlyList<LoadPhase> load)
    {
        var total = TimeSpan.Zero;
        foreach (var phase in load)
        {
            total += phase.Duration;
        }
        return total;
    }

    private static (List<DeviceGroup> Groups, double? ConnectRate) Groups(ParseContext ctx, ObjectReader top, HubSpec? hub)
    {
        var groups = new List<DeviceGroup>();
        var devicesNode = top.Get("devices");
        var telemetryNode = top.Get("telemetry");
        var groupsNode = top.Get("deviceGroups");
        if (groupsNode is not null)
        {
            foreach (var key in new[] { "devices", "telemetry" })
            {
                if (top.KeyNode(key) is { } shortKey)
                {
                    ctx.Error(shortKey, $"'{key}' (the short form) cannot be combined with deviceGroups", "move it into a device group");
                }
            }
            if (groupsNode is not YamlSequenceNode sequence || sequence.Children.Count == 0)
            {
                ctx.Error(groupsNode, $"deviceGroups: expected a non-empty list of groups, found {ParseContext.Describe(groupsNode)}");
                return (groups, null);
            }
            for (var i = 0; i < sequence.Children.Count; i++)
            {
                if (DeviceGroupParser.Parse(ctx, sequence.Children[i], $"deviceGroups[{i}]", hub) is { } group)
                {
                    groups.Add(group);
                }
            }
            CheckUnique(ctx, sequence, groups);
            return (groups, null);
        }
        if (devicesNode is null)
        {
            ctx.Error(telemetryNode ?? top.Node, "the scenario needs devices (short form) or deviceGroups",
                "e.g. devices: {count: 100, idPrefix: dev-, connectRate: 20}");
            return (groups, null);
        }
        var devices = ObjectReader.Open(ctx, devicesNode, "devices", "devices");
        if (devices is null)
        {
            return (groups, null);
        }
        var connectRate = devices.Rate("connectRate");
        if (DeviceGroupParser.FromShortForm(ctx, devices, telemetryNode) is { } single)
        {
            groups.Add(single);
        }
        return (groups, connectRate);
    }

    private static void CheckUnique(ParseContext ctx, YamlSequenceNode sequence, List<DeviceGroup> groups)
    {
        if (groups.Count != sequence.Children.Count)
        {
            return;
        }
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var patterns = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < groups.Count; i++)
        {
            if (!names.TryAdd(groups[i].Name, i))
            {
                ctx.Error(sequence.Children[i], $"group name '{groups[i].Name}' is used twice", $"group {names[groups[i].Name]} has it already");
            }
            if (!patterns.TryAdd(groups[i].Ids.Pattern, i))
            {
                ctx.Error(sequence.Children[i], $"group '{groups[i].Name}' has the same device ids ({groups[i].Ids.Pattern}) as group '{groups[patterns[groups[i].Ids.Pattern]].Name}'",
                    "give each group its own idPattern or idPrefix");
            }
        }
        // A device listed in a connection-strings file must not also be made by another group's pattern.
        for (var i = 0; i < groups.Count; i++)
        {
            if (groups[i].ConnectionStrings is not { } listed)
            {
                continue;
            }
            for (var j = 0; j < groups.Count; j++)
            {
                if (j == i)
                {
                    continue;
                }
                for (var k = 0; k < groups[i].Count; k++)
                {
                    var id = listed.Entries[k].DeviceId;
                    if (groups[j].Ids.TryParseIndex(id, groups[j].Count, out _))
                    {
                        ctx.Error(sequence.Children[i], $"device '{id}' of group '{groups[i].Name}' is also a device of group '{groups[j].Name}'", "each device belongs to one group");
                        return;
                    }
                }
            }
        }
    }
}
