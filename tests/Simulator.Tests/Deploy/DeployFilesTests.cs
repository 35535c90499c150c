using FleetSim.Simulator.Commands;
using YamlDotNet.RepresentationModel;
using static FleetSim.Simulator.Tests.Deploy.DeployFiles;

namespace FleetSim.Simulator.Tests.Deploy;

/// <summary>
/// docker-compose.yml, the Dockerfile and deploy/kubernetes/ (issue 11 item 6): no container engine runs here, so these
/// tests parse the files and check that every fleetsim command line in them is one the CLI accepts, and that the pieces
/// fit together (addresses, ports, labels, volumes, RBAC). DeployRunTests runs the same commands as processes.
/// </summary>
public sealed class DeployFilesTests
{
    private static readonly string[] Commands = ["run", "node", "hub"];

    public static TheoryData<string, string[]> CommandLines()
    {
        var data = new TheoryData<string, string[]>();
        foreach (var service in ComposeServices().Children.Keys.Cast<YamlScalarNode>())
            data.Add($"docker-compose.yml {service.Value}", ComposeCommand(service.Value!));
        foreach (var (file, obj) in KubernetesObjects())
        {
            if (Scalar(obj, "kind") is "Deployment" or "Job")
            {
                foreach (var container in Containers(PodSpec(obj)))
                    data.Add($"{file} {Scalar(container, "name")}", Args(container));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CommandLines))]
    public void Every_fleetsim_command_line_in_the_deploy_files_parses(string where, string[] args)
    {
        var parsed = Cli.Create().Parse(args);

        Assert.True(parsed.Errors.Count == 0, $"{where}: {string.Join("; ", parsed.Errors.Select(static e => e.Message))}");
        Assert.Contains(args[0], Commands);
        if (args[0] == "node")
            Assert.True(NodeCommand.TryRead(parsed, out _, out var error), $"{where}: {error}");
        if (args[0] == "run")
            Assert.True(File.Exists(Path.Combine(Fleetsim.RepoRoot, args[1])), $"{where}: {args[1]} is not a shipped scenario (the image has scenarios/ in its working directory)");
    }

    [Fact]
    public void The_deploy_files_hold_a_hub_a_coordinator_and_workers_each()
    {
        var lines = CommandLines().Select(static row => ((string)row[0], (string[])row[1])).ToList();

        foreach (var source in new[] { "docker-compose.yml", "coordinator-job.yaml" })
            Assert.Contains(lines, l => l.Item1.StartsWith(source, StringComparison.Ordinal) && l.Item2[0] == "run" && OptionValue(l.Item2, "--wait-workers") is not null);
        Assert.Contains(lines, l => l.Item1.StartsWith("docker-compose.yml", StringComparison.Ordinal) && l.Item2[0] == "node" && OptionValue(l.Item2, "--seed") is not null);
        Assert.Contains(lines, l => l.Item1.StartsWith("workers.yaml", StringComparison.Ordinal) && l.Item2[0] == "node" && OptionValue(l.Item2, "--discovery") == "kubernetes");
        Assert.Equal(2, lines.Count(static l => l.Item2[0] == "hub"));
    }

    [Fact]
    public void The_Dockerfile_builds_every_project_and_runs_fleetsim_on_the_aspnet_runtime()
    {
        var dockerfile = File.ReadAllLines(Path.Combine(Fleetsim.RepoRoot, "Dockerfile"));
        var projects = Directory.GetFiles(Path.Combine(Fleetsim.RepoRoot, "src"), "*.csproj", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Fleetsim.RepoRoot, p).Replace('\\', '/'));

        // Each project's file is copied before the restore (a project missing there breaks the image's restore).
        foreach (var project in projects)
            Assert.Contains(dockerfile, l => l.StartsWith($"COPY {project} {Path.GetDirectoryName(project)!.Replace('\\', '/')}/", StringComparison.Ordinal));
        var publish = Array.FindIndex(dockerfile, static l => l.StartsWith("RUN dotnet publish src/Simulator/FleetSim.Simulator.csproj ", StringComparison.Ordinal));
        Assert.True(publish > 0, "no publish of the fleetsim project");

        // Files outside src/ that a project builds in (the embedded scenario schema) are copied before the publish.
        var copiedBeforePublish = dockerfile.Take(publish).Where(static l => l.StartsWith("COPY ", StringComparison.Ordinal) && !l.Contains("--from", StringComparison.Ordinal))
            .Select(static l => l.Split(' ')[1]).ToList();
        foreach (var project in projects)
        {
            var projectDir = Path.GetDirectoryName(Path.Combine(Fleetsim.RepoRoot, project))!;
            foreach (System.Text.RegularExpressions.Match include in System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(Path.Combine(Fleetsim.RepoRoot, project)), @"Include=""(\.\./\.\./[^""]+)"""))
            {
                var file = Path.GetRelativePath(Fleetsim.RepoRoot, Path.GetFullPath(Path.Combine(projectDir, include.Groups[1].Value))).Replace('\\', '/');
                Assert.Contains(copiedBeforePublish, c => file == c || (c.EndsWith('/') && file.StartsWith(c, StringComparison.Ordinal)));
            }
        }

        Assert.Contains("<AssemblyName>fleetsim</AssemblyName>", File.ReadAllText(Path.Combine(Fleetsim.RepoRoot, "src", "Simulator", "FleetSim.Simulator.csproj")));
        Assert.Contains(dockerfile, static l => l.StartsWith("FROM mcr.microsoft.com/dotnet/aspnet:10.0 ", StringComparison.Ordinal)); // the ASP.NET Core shared framework
        Assert.Contains("ENTRYPOINT [\"fleetsim\"]", dockerfile);
        Assert.Contains(dockerfile, static l => l.Contains("PATH=\"/app:", StringComparison.Ordinal));
        Assert.Contains("COPY scenarios/ scenarios/", dockerfile);
    }

    [Fact]
    public void In_compose_workers_reach_the_coordinator_and_it_waits_for_as_many_as_are_started()
    {
        foreach (var workers in new Dictionary<string, string>?[] { null, new() { ["WORKERS"] = "7" } })
        {
            var coordinator = ComposeCommand("coordinator", workers);
            var worker = ComposeCommand("worker", workers);
            var hub = ComposeCommand("hub", workers);
            var services = ComposeServices();

            Assert.Equal($"{OptionValue(coordinator, "--cluster-host")}:{OptionValue(coordinator, "--cluster-port")}", OptionValue(worker, "--seed"));
            Assert.True(services.Children.ContainsKey(OptionValue(coordinator, "--cluster-host")!), "the coordinator's --cluster-host is its service name");
            var replicas = Interpolate(Scalar(services, "worker", "deploy", "replicas")!, workers);
            Assert.Equal(replicas, OptionValue(coordinator, "--wait-workers"));
            Assert.Equal(workers?["WORKERS"] ?? "4", replicas);

            // The hub is reached by its service name (in its certificate), and its state file reaches the coordinator.
            Assert.Equal("hub", OptionValue(hub, "--host-name"));
            Assert.Equal(OptionValue(hub, "--state-file"), OptionValue(coordinator, "--hub-state"));
            var stateDir = Path.GetDirectoryName(OptionValue(hub, "--state-file"))!;
            Assert.Equal(VolumeAt(services, "hub", stateDir), VolumeAt(services, "coordinator", stateDir));
            Assert.StartsWith(stateDir, OptionValue(hub, "--data-dir")!, StringComparison.Ordinal); // the CA path in the state file is readable there too
        }
    }

    private static string VolumeAt(YamlMappingNode services, string service, string mountPath) =>
        ((YamlSequenceNode)Node(services, service, "volumes")!).Cast<YamlScalarNode>().Select(static v => v.Value!.Split(':'))
            .Single(v => v[1] == mountPath)[0];

    [Fact]
    public void On_kubernetes_workers_find_the_coordinator_pod_by_label_and_may_list_pods()
    {
        var workers = KubernetesObject("Deployment", "fleetsim-worker");
        var job = KubernetesObject("Job", "fleetsim-run");
        var workerArgs = Args(Container(workers, "worker"), podIp: "10.1.2.3");
        var coordinator = Container(job, "coordinator");
        var coordinatorArgs = Args(coordinator, podIp: "10.1.2.4");

        Assert.True(NodeCommand.TryRead(Cli.Create().Parse(workerArgs), out var node, out var error), error);
        var formation = Assert.IsType<FleetSim.Cluster.Hosting.KubernetesFormation>(node.Formation);
        Assert.Empty(node.Seeds);
        Assert.Equal(new FleetSim.Cluster.Hosting.ClusterEndpoint("0.0.0.0", "10.1.2.3", 4053), node.Endpoint);

        // The selector picks the coordinator's pod and no worker pod.
        var selector = formation.LabelSelector.Split(',').Select(static r => r.Split('=')).ToDictionary(static r => r[0], static r => r[1]);
        Assert.All(selector, r => Assert.Equal(r.Value, PodLabels(job).GetValueOrDefault(r.Key)));
        Assert.Contains(selector, r => PodLabels(workers).GetValueOrDefault(r.Key) != r.Value);

        // Workers probe the coordinator's management endpoint on the port it serves and declares.
        Assert.Equal("kubernetes", OptionValue(coordinatorArgs, "--discovery"));
        Assert.Equal(formation.ManagementPort.ToString(System.Globalization.CultureInfo.InvariantCulture), OptionValue(coordinatorArgs, "--management-port"));
        Assert.Contains(Ports(coordinator), p => p == formation.ManagementPort);
        Assert.Contains(Ports(coordinator), p => p.ToString(System.Globalization.CultureInfo.InvariantCulture) == OptionValue(coordinatorArgs, "--cluster-port"));
        Assert.Equal("10.1.2.4", OptionValue(coordinatorArgs, "--cluster-host"));
        Assert.Equal(Scalar(workers, "spec", "replicas"), OptionValue(coordinatorArgs, "--wait-workers"));

        // The workers' service account may list pods (what Akka.Discovery.KubernetesApi asks the API server).
        var account = Scalar(PodSpec(workers), "serviceAccountName")!;
        var binding = KubernetesObjects().Select(static o => o.Object).Single(o => Scalar(o, "kind") == "RoleBinding"
            && ((YamlSequenceNode)o["subjects"]).Cast<YamlMappingNode>().Any(s => Scalar(s, "kind") == "ServiceAccount" && Scalar(s, "name") == account));
        var role = KubernetesObject(Scalar(binding, "roleRef", "kind")!, Scalar(binding, "roleRef", "name")!);
        Assert.Contains(((YamlSequenceNode)role["rules"]).Cast<YamlMappingNode>(), r =>
            Strings(r["resources"]).Contains("pods") && Strings(r["apiGroups"]).Contains("") && Strings(r["verbs"]).Contains("list"));
        Assert.Equal(account, Scalar(KubernetesObject("ServiceAccount", account), "metadata", "name"));
    }

    [Fact]
    public void On_kubernetes_the_hub_runs_beside_the_coordinator_and_workers_reach_it_through_its_service()
    {
        var job = KubernetesObject("Job", "fleetsim-run");
        var hub = Container(job, "hub");
        var hubArgs = Args(hub);
        var coordinatorArgs = Args(Container(job, "coordinator"));
        var service = KubernetesObject("Service", OptionValue(hubArgs, "--host-name")!);

        Assert.Equal("Always", Scalar(hub, "restartPolicy")); // a native sidecar: it stops when the run's container ends
        Assert.Contains(((YamlSequenceNode)PodSpec(job)["initContainers"]).Cast<YamlMappingNode>(), c => Scalar(c, "name") == "hub");
        Assert.All(Labels(Node(service, "spec", "selector")), l => Assert.Equal(l.Value, PodLabels(job).GetValueOrDefault(l.Key)));
        var servicePorts = ((YamlSequenceNode)Node(service, "spec", "ports")!).Cast<YamlMappingNode>().Select(static p => Scalar(p, "targetPort")).ToList();
        Assert.Contains(OptionValue(hubArgs, "--mqtt-port"), servicePorts);
        Assert.Contains(OptionValue(hubArgs, "--https-port"), servicePorts);

        // The run reads the hub's state file from a volume both containers mount, and reaches the hub by the same name.
        Assert.Equal(OptionValue(hubArgs, "--state-file"), OptionValue(coordinatorArgs, "--hub-state"));
        var stateDir = Path.GetDirectoryName(OptionValue(hubArgs, "--state-file"))!;
        Assert.Equal(MountAt(hub, stateDir), MountAt(Container(job, "coordinator"), stateDir));
        var alias = ((YamlSequenceNode)PodSpec(job)["hostAliases"]).Cast<YamlMappingNode>().Single();
        Assert.Equal("127.0.0.1", Scalar(alias, "ip"));
        Assert.Contains(OptionValue(hubArgs, "--host-name"), Strings(alias["hostnames"]));
    }

    private static IEnumerable<int> Ports(YamlMappingNode container) =>
        ((YamlSequenceNode)container["ports"]).Cast<YamlMappingNode>().Select(static p => int.Parse(Scalar(p, "containerPort")!, System.Globalization.CultureInfo.InvariantCulture));

    private static string MountAt(YamlMappingNode container, string path) =>
        ((YamlSequenceNode)container["volumeMounts"]).Cast<YamlMappingNode>().Single(m => Scalar(m, "mountPath") == path) is var m ? Scalar(m, "name")! : "";

    private static List<string> Strings(YamlNode node) => [.. ((YamlSequenceNode)node).Cast<YamlScalarNode>().Select(static s => s.Value!)];
}
