using YamlDotNet.RepresentationModel;

namespace FleetSim.Scenarios.Parsing;

/// <summary>
/// Applies <c>--set path=value</c> overrides to the YAML tree before validation. Paths are dotted keys and
/// list indexes (deviceGroups.0.count); missing mapping keys are created; the value is read as YAML
/// (so {interval: 2s} or [a, b] work). The new nodes remember their override, so errors point at it.
/// </summary>
internal static class Overrides
{
    public static YamlNode Apply(ParseContext ctx, YamlNode root, IReadOnlyList<string> overrides)
    {
        for (var n = 0; n < overrides.Count; n++)
        {
            var text = overrides[n] ?? "";
            var equals = text.IndexOf('=');
            var origin = "--set " + (equals > 0 ? text[..equals] : text);
            if (equals <= 0)
            {
                ctx.Errors.Add(new ScenarioError(origin, 1, 1, $"override '{text}' is not path=value", "e.g. --set deviceGroups.0.count=5"));
                continue;
            }
            var path = text[..equals].Trim().Split('.');
            var value = ParseValue(ctx, text[(equals + 1)..], origin, equals + 1);
            if (value is null)
            {
                continue;
            }
            root = Set(ctx, root, path, value, origin) ?? root;
        }
        return root;
    }

    private static YamlNode? ParseValue(ParseContext ctx, string text, string origin, int column)
    {
        YamlNode value;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            value = stream.Documents.Count == 0 ? new YamlScalarNode(text) : stream.Documents[0].RootNode;
        }
        catch (YamlDotNet.Core.YamlException)
        {
            value = new YamlScalarNode(text);
        }
        foreach (var node in value.AllNodes)
        {
            ctx.SetOrigin(node, origin, column);
        }
        ctx.SetOrigin(value, origin, column);
        return value;
    }

    private static YamlNode? Set(ParseContext ctx, YamlNode root, string[] path, YamlNode value, string origin)
    {
        if (path.Any(string.IsNullOrWhiteSpace))
        {
            ctx.Errors.Add(new ScenarioError(origin, 1, 1, $"override path '{string.Join('.', path)}' has an empty part", "e.g. deviceGroups.0.count"));
            return null;
        }
        if (root is not YamlMappingNode)
        {
            root = new YamlMappingNode();
        }
        var current = root;
        for (var i = 0; i < path.Length; i++)
        {
            var segment = path[i];
            var last = i == path.Length - 1;
            var at = string.Join('.', path[..(i + 1)]);
            switch (current)
            {
                case YamlMappingNode mapping:
                    var key = FindKey(mapping, segment);
                    if (last)
                    {
                        if (key is null)
                        {
                            key = new YamlScalarNode(segment);
                            ctx.SetOrigin(key, origin, 1);
                        }
                        mapping.Children[key] = value;
                        return root;
                    }
                    if (key is null || ParseContext.IsNull(mapping.Children[key]))
                    {
                        var created = new YamlMappingNode();
                        ctx.SetOrigin(created, origin, 1);
                        if (key is null)
                        {
                            key = new YamlScalarNode(segment);
                            ctx.SetOrigin(key, origin, 1);
                        }
                        mapping.Children[key] = created;
                    }
                    current = mapping.Children[key];
                    break;
                case YamlSequenceNode sequence:
                    if (!int.TryParse(segment, out var index) || index < 0 || index > sequence.Children.Count
                        || (index == sequence.Children.Count && !last))
                    {
                        ctx.Errors.Add(new ScenarioError(origin, 1, 1, $"override path '{at}': '{segment}' is not an index of the list",
                            $"the list has {sequence.Children.Count} item(s), indexes 0 to {sequence.Children.Count - 1}"));
                        return null;
                    }
                    if (last)
                    {
                        if (index == sequence.Children.Count)
                        {
                            sequence.Children.Add(value);
                        }
                        else
                        {
                            sequence.Children[index] = value;
                        }
                        return root;
                    }
                    current = sequence.Children[index];
                    break;
                default:
                    ctx.Errors.Add(new ScenarioError(origin, 1, 1,
                        $"override path '{at}': '{string.Join('.', path[..i])}' is {ParseContext.Describe(current)}, not a mapping or list"));
                    return null;
            }
        }
        return root;
    }

    private static YamlNode? FindKey(YamlMappingNode mapping, string name)
    {
        foreach (var key in mapping.Children.Keys)
        {
            if (key is YamlScalarNode { Value: { } value } && value == name)
            {
                return key;
            }
        }
        return null;
    }
}
