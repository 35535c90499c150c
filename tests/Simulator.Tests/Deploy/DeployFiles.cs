using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace FleetSim.Simulator.Tests.Deploy;

/// <summary>The deployment files of the repository (docker-compose.yml, deploy/kubernetes/), parsed as their tools would.</summary>
public static partial class DeployFiles
{
    public static string ComposePath => Path.Combine(Fleetsim.RepoRoot, "docker-compose.yml");

    public static string KubernetesDir => Path.Combine(Fleetsim.RepoRoot, "deploy", "kubernetes");

    public static IReadOnlyList<YamlMappingNode> Load(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StringReader(File.ReadAllText(path)))
            stream.Load(reader);
        return [.. stream.Documents.Select(static d => (YamlMappingNode)d.RootNode)];
    }

    public static YamlMappingNode ComposeServices() => (YamlMappingNode)Load(ComposePath).Single()["services"];

    /// <summary>A compose service's command with compose's <c>${NAME:-default}</c> interpolation from the given variables.</summary>
    public static string[] ComposeCommand(string service, IReadOnlyDictionary<string, string>? variables = null) =>
        [.. ((YamlSequenceNode)((YamlMappingNode)ComposeServices()[service])["command"]).Select(n => Interpolate(((YamlScalarNode)n).Value!, variables))];

    public static string Interpolate(string text, IReadOnlyDictionary<string, string>? variables) =>
        ComposeVariable().Replace(text, m => variables?.GetValueOrDefault(m.Groups[1].Value)
            ?? (m.Groups[2].Success ? m.Groups[2].Value : throw new InvalidOperationException($"{m.Value} has no default")));

    [GeneratedRegex(@"\$\{(\w+)(?::-([^}]*))?\}")]
    private static partial Regex ComposeVariable();

    /// <summary>Every Kubernetes object of deploy/kubernetes, with the file it came from.</summary>
    public static IReadOnlyList<(string File, YamlMappingNode Object)> KubernetesObjects() =>
        [.. Directory.GetFiles(KubernetesDir, "*.yaml").Order(StringComparer.Ordinal).SelectMany(f => Load(f).Select(o => (Path.GetFileName(f), o)))];

    public static YamlMappingNode KubernetesObject(string kind, string name) =>
        KubernetesObjects().Single(o => Scalar(o.Object, "kind") == kind && Scalar(o.Object, "metadata", "name") == name).Object;

    /// <summary>A workload's pod template spec (Deployment, Job).</summary>
    public static YamlMappingNode PodSpec(YamlMappingNode workload) => (YamlMappingNode)Node(workload, "spec", "template", "spec")!;

    public static IReadOnlyDictionary<string, string> PodLabels(YamlMappingNode workload) => Labels(Node(workload, "spec", "template", "metadata", "labels"));

    public static IReadOnlyDictionary<string, string> Labels(YamlNode? node) =>
        node is YamlMappingNode map ? map.ToDictionary(static e => ((YamlScalarNode)e.Key).Value!, static e => ((YamlScalarNode)e.Value).Value!) : new Dictionary<string, string>();

    /// <summary>Every container of a pod spec (sidecars in initContainers included).</summary>
    public static IEnumerable<YamlMappingNode> Containers(YamlMappingNode podSpec) =>
        new[] { "initContainers", "containers" }.SelectMany(k => podSpec.Children.TryGetValue(k, out var list) ? ((YamlSequenceNode)list).Cast<YamlMappingNode>() : []);

    public static YamlMappingNode Container(YamlMappingNode workload, string name) => Containers(PodSpec(workload)).Single(c => Scalar(c, "name") == name);

    /// <summary>
    /// A container's args as Kubernetes runs them: <c>$(NAME)</c> replaced by the container's env value, where a value from
    /// the pod's IP (downward API) becomes <paramref name="podIp"/>.
    /// </summary>
    public static string[] Args(YamlMappingNode container, string podIp = "10.0.0.7")
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        if (container.Children.TryGetValue("env", out var list))
        {
            foreach (YamlMappingNode e in (YamlSequenceNode)list)
            {
                var fieldPath = Scalar(e, "valueFrom", "fieldRef", "fieldPath");
                env[Scalar(e, "name")!] = fieldPath == "status.podIP" ? podIp : Scalar(e, "value") ?? throw new InvalidOperationException($"env {Scalar(e, "name")}: unsupported source");
            }
        }

        return [.. ((YamlSequenceNode)container["args"]).Select(n => KubernetesVariable().Replace(((YamlScalarNode)n).Value!,
            m => env.TryGetValue(m.Groups[1].Value, out var v) ? v : throw new InvalidOperationException($"{m.Value} is not in the container's env")))];
    }

    [GeneratedRegex(@"\$\((\w+)\)")]
    private static partial Regex KubernetesVariable();

    public static YamlNode? Node(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(key, out var next))
                return null;
            node = next;
        }

        return node;
    }

    public static string? Scalar(YamlNode node, params string[] path) => (Node(node, path) as YamlScalarNode)?.Value;

    /// <summary>The value after an option in a command line (null when the option is absent).</summary>
    public static string? OptionValue(IReadOnlyList<string> args, string option)
    {
        var i = args.ToList().IndexOf(option);
        return i >= 0 && i + 1 < args.Count ? args[i + 1] : null;
    }

    /// <summary>
    /// The same command line with some option values replaced (addresses, ports, paths that only exist in a container).
    /// Every option named must be in the command line: a deploy file that changes its options fails the test, not it.
    /// </summary>
    public static string[] WithValues(IReadOnlyList<string> args, params (string Option, string Value)[] replacements)
    {
        var result = args.ToArray();
        foreach (var (option, value) in replacements)
        {
            var i = Array.IndexOf(result, option);
            Assert.True(i >= 0 && i + 1 < result.Length, $"{option} is not in '{string.Join(' ', args)}'");
            result[i + 1] = value;
        }

        return result;
    }
}
