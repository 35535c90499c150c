using System.CommandLine;
using Akka.Actor;
using Akka.Hosting;
using FleetSim.Cluster.Hosting;
using FleetSim.Cluster.Worker;
using FleetSim.Metrics;
using FleetSim.Simulator.Cluster;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FleetSim.Simulator.Commands;

/// <summary>What a worker node was told on its command line.</summary>
/// <param name="Seeds">The coordinator's HOST:PORT; empty when the cluster is found by Kubernetes discovery.</param>
/// <param name="ExitWith">A process id whose end ends this node (the local coordinator's).</param>
public sealed record NodeSettings(ClusterEndpoint Endpoint, IReadOnlyList<string> Seeds, KubernetesFormation? Formation, int? ExitWith);

/// <summary>
/// <c>fleetsim node --seed HOST:PORT</c> (or <c>--discovery kubernetes</c>): a worker that joins a run's cluster and hosts
/// device shards until the run's coordinator is gone (or it is stopped, or the process named by --exit-with ends).
/// </summary>
public static class NodeCommand
{
    private static readonly Option<string?> SeedOption = new("--seed") { Description = "HOST:PORT of the coordinator (a 'fleetsim run --nodes' or '--wait-workers' prints it), e.g. 127.0.0.1:4053; or use --discovery kubernetes" };
    private static readonly Option<string> BindOption = new("--bind") { Description = "Host name or address this node listens on (default 127.0.0.1; 0.0.0.0 for all)", DefaultValueFactory = _ => "127.0.0.1" };
    private static readonly Option<string?> PublicHostOption = new("--public-host") { Description = "Host name or address other members reach this node at (default: --bind, or this machine's address for 0.0.0.0)" };
    private static readonly Option<int> PortOption = new("--port") { Description = "Port this node listens on (default 0: any free port)", DefaultValueFactory = _ => 0 };
    private static readonly Option<int?> ExitWithOption = new("--exit-with") { Description = "Exit when the process with this id ends (fleetsim run --nodes passes its own)" };
    private static readonly Option<string?> DiscoveryOption = new("--discovery") { Description = "kubernetes: find the coordinator through the Kubernetes API and Akka.Management cluster bootstrap instead of --seed (none: use --seed)" };
    private static readonly Option<string?> SelectorOption = new("--discovery-selector") { Description = $"With --discovery kubernetes: label selector of the coordinator's pod (default {KubernetesFormation.DefaultLabelSelector})" };
    private static readonly Option<string?> NamespaceOption = new("--namespace") { Description = "With --discovery kubernetes: namespace to look for the coordinator in (default: this pod's own)" };
    private static readonly Option<int?> ManagementPortOption = new("--management-port") { Description = $"With --discovery kubernetes: the port of the coordinator's bootstrap contact point, its --management-port (default {KubernetesFormation.DefaultManagementPort})" };

    public static Command Create()
    {
        var command = new Command("node", "Join a run's cluster as a worker and host device shards")
        {
            SeedOption, BindOption, PublicHostOption, PortOption, ExitWithOption, DiscoveryOption, SelectorOption, NamespaceOption, ManagementPortOption,
        };
        command.SetAction(async (parse, _) =>
        {
            if (!TryRead(parse, out var settings, out var error))
                return Bad(error);
            using var shutdown = new Shutdown();
            return await RunAsync(settings, shutdown.Token);
        });
        return command;
    }

    /// <summary>
    /// A worker's settings from its command line, checked at the edge: exactly one way to find the cluster (--seed, or
    /// --discovery kubernetes), hosts without blanks or ports, ports in range, and no option that would do nothing.
    /// </summary>
    public static bool TryRead(ParseResult parse, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NodeSettings? settings, out string error)
    {
        settings = null;
        var seedText = parse.GetValue(SeedOption);
        var seed = "";
        if (!ClusterArguments.TryParseDiscovery(parse.GetValue(DiscoveryOption), out var kubernetes, out error))
            return false;
        if (seedText is null && !kubernetes)
        {
            error = "--seed: expected HOST:PORT of the coordinator (or --discovery kubernetes to find it through the Kubernetes API)";
            return false;
        }

        if (seedText is not null && kubernetes)
        {
            error = "--seed and --discovery kubernetes cannot be used together: the coordinator is found one way or the other";
            return false;
        }

        if (seedText is not null && !ClusterArguments.TryParseSeed(seedText, out seed, out error))
            return false;
        var bind = parse.GetValue(BindOption)!;
        if (!ClusterArguments.TryParseHost("--bind", bind, allowWildcard: true, out error))
            return false;
        var publicHost = parse.GetValue(PublicHostOption);
        if (publicHost is not null && !ClusterArguments.TryParseHost("--public-host", publicHost, allowWildcard: false, out error))
            return false;
        publicHost ??= ClusterEndpoint.DefaultPublicHost(bind);
        if (publicHost is null)
        {
            error = $"--public-host: required with --bind {bind} (this machine's host name resolves to no IPv4 address other members could use)";
            return false;
        }

        var port = parse.GetValue(PortOption);
        if (!ClusterArguments.TryParsePort("--port", port, allowAny: true, out error))
            return false;
        var parent = parse.GetValue(ExitWithOption);
        if (parent is <= 0)
        {
            error = $"--exit-with: expected a process id; found {parent}";
            return false;
        }

        KubernetesFormation? formation = null;
        var selector = parse.GetValue(SelectorOption);
        var ns = parse.GetValue(NamespaceOption);
        var managementPort = parse.GetValue(ManagementPortOption);
        if (!kubernetes)
        {
            var orphan = new (string Name, object? Value)[] { ("--discovery-selector", selector), ("--namespace", ns), ("--management-port", managementPort) }
                .FirstOrDefault(static o => o.Value is not null).Name;
            if (orphan is not null)
            {
                error = $"{orphan}: applies only with --discovery kubernetes";
                return false;
            }
        }
        else
        {
            selector ??= KubernetesFormation.DefaultLabelSelector;
            if (!ClusterArguments.TryParseLabelSelector(selector, out error))
                return false;
            if (ns is not null && (ns.Length == 0 || !ns.All(static c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
            {
                error = $"--namespace: expected a Kubernetes namespace name (lower-case letters, digits, '-'); found '{ns}'";
                return false;
            }

            if (!ClusterArguments.TryParsePort("--management-port", managementPort ?? KubernetesFormation.DefaultManagementPort, allowAny: false, out error))
                return false;
            formation = new KubernetesFormation(selector, ns, managementPort ?? KubernetesFormation.DefaultManagementPort);
        }

        settings = new NodeSettings(new ClusterEndpoint(bind, publicHost, port), kubernetes ? [] : [seed], formation, parent);
        return true;
    }

    private static int Bad(string message)
    {
        Console.Error.WriteLine("error: " + message);
        return ExitCodes.BadInput;
    }

    /// <summary>The worker's cluster composition: membership (by seed or by Kubernetes bootstrap), device shards, node actor.</summary>
    public static void Configure(AkkaConfigurationBuilder akka, NodeSettings settings, WorkerRuntime runtime)
    {
        akka.WithFleetSimCluster(DeviceShards.Role, settings.Endpoint, settings.Seeds);
        if (settings.Formation is { } formation)
            akka.WithKubernetesWorkerFormation(formation, settings.Endpoint);
        akka.WithDeviceShards(runtime);
        akka.WithWorkerNode(runtime);
    }

    private static async Task<int> RunAsync(NodeSettings settings, CancellationToken cancel)
    {
        var runtime = new WorkerRuntime(new FleetMetrics(exportIntervals: true));
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, Run.RunLifetime>();
        builder.Services.AddAkka(ClusterHosting.SystemName, akka =>
        {
            akka.ConfigureLoggers(loggers =>
            {
                // Warnings and errors on stderr, one redacted line each (no stack traces).
                loggers.LogLevel = Akka.Event.LogLevel.WarningLevel;
                loggers.ClearLoggers();
                loggers.AddLogger<Logging.DebugFileLogger>();
            });
            akka.AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend);
            Configure(akka, settings, runtime);
        });

        using var host = builder.Build();
        await host.StartAsync(CancellationToken.None);
        var system = host.Services.GetRequiredService<ActorSystem>();
        var cluster = Akka.Cluster.Cluster.Get(system);
        var joined = 0;
        cluster.RegisterOnMemberUp(() => Interlocked.Exchange(ref joined, 1));
        var target = settings.Formation is { } f ? $"the coordinator found through the Kubernetes API (pods {f.LabelSelector})" : settings.Seeds[0];
        Console.WriteLine($"node {cluster.SelfAddress} joining {target}");
        var reason = await WaitForEndAsync(system, settings.ExitWith, cancel);
        if (reason is not null)
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
        await host.StopAsync(CancellationToken.None);
        if (Volatile.Read(ref joined) == 0 && reason is null)
        {
            Console.Error.WriteLine($"error: could not join the cluster at {target} (is a 'fleetsim run --nodes' or '--wait-workers' coordinator listening there?)");
            return ExitCodes.RunFailed;
        }

        Console.WriteLine($"node {cluster.SelfAddress} left the cluster ({reason ?? "the run's coordinator is gone"})");
        return ExitCodes.Ok;
    }

    /// <summary>Null when the actor system ended by itself (coordinator gone, downed, join given up), else why the node stops.</summary>
    private static async Task<string?> WaitForEndAsync(ActorSystem system, int? parent, CancellationToken cancel)
    {
        using var poll = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var cancelled = Task.Delay(Timeout.Infinite, cancel);
        while (!system.WhenTerminated.IsCompleted)
        {
            var tick = poll.WaitForNextTickAsync(CancellationToken.None).AsTask();
            var done = await Task.WhenAny(system.WhenTerminated, tick, cancelled);
            if (done == cancelled)
                return "stopped by a signal";
            if (parent is { } pid && !IsRunning(pid))
                return $"process {pid} ended";
        }

        return null;
    }

    /// <summary>
    /// Whether the process still runs. A killed process whose parent has not reaped it yet is a zombie: it still has an
    /// entry (state Z in /proc/PID/stat) but is gone for our purpose.
    /// </summary>
    internal static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].TrimStart();
            return state.Length > 0 && state[0] is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (Directory.Exists("/proc/self"))
                return false; // no entry: it ended
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
