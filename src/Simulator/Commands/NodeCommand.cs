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

/// <summary>
/// <c>fleetsim node --seed HOST:PORT</c>: a worker that joins a run's cluster and hosts device shards until the run's
/// coordinator is gone (or it is stopped, or the process named by --exit-with ends).
/// </summary>
public static class NodeCommand
{
    public static Command Create()
    {
        var seedOption = new Option<string>("--seed") { Description = "HOST:PORT of the coordinator (a 'fleetsim run --nodes' prints it), e.g. 127.0.0.1:4053", Required = true };
        var bindOption = new Option<string>("--bind") { Description = "Host name or address this node listens on and is reached at (default 127.0.0.1)", DefaultValueFactory = _ => "127.0.0.1" };
        var portOption = new Option<int>("--port") { Description = "Port this node listens on (default 0: any free port)", DefaultValueFactory = _ => 0 };
        var exitWithOption = new Option<int?>("--exit-with") { Description = "Exit when the process with this id ends (fleetsim run --nodes passes its own)" };
        var command = new Command("node", "Join a run's cluster as a worker and host device shards") { seedOption, bindOption, portOption, exitWithOption };
        command.SetAction(async (parse, _) =>
        {
            if (!ClusterArguments.TryParseSeed(parse.GetValue(seedOption), out var seed, out var error))
                return Bad(error);
            var bind = parse.GetValue(bindOption)!;
            if (string.IsNullOrWhiteSpace(bind) || bind.Any(char.IsWhiteSpace))
                return Bad($"--bind: expected a host name or address; found '{bind}'");
            var port = parse.GetValue(portOption);
            if (port is < 0 or > 65535)
                return Bad($"--port: expected a port from 0 (any free port) to 65535; found {port}");
            var parent = parse.GetValue(exitWithOption);
            if (parent is <= 0)
                return Bad($"--exit-with: expected a process id; found {parent}");

            using var shutdown = new Shutdown();
            return await RunAsync(seed, bind, port, parent, shutdown.Token);
        });
        return command;
    }

    private static int Bad(string message)
    {
        Console.Error.WriteLine("error: " + message);
        return ExitCodes.BadInput;
    }

    private static async Task<int> RunAsync(string seed, string bind, int port, int? parent, CancellationToken cancel)
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
            akka.WithFleetSimCluster(DeviceShards.Role, bind, port, [seed]);
            akka.WithDeviceShards(runtime);
            akka.WithWorkerNode(runtime);
        });

        using var host = builder.Build();
        await host.StartAsync(CancellationToken.None);
        var system = host.Services.GetRequiredService<ActorSystem>();
        var cluster = Akka.Cluster.Cluster.Get(system);
        var joined = 0;
        cluster.RegisterOnMemberUp(() => Interlocked.Exchange(ref joined, 1));
        Console.WriteLine($"node {cluster.SelfAddress} joining {seed}");
        var reason = await WaitForEndAsync(system, parent, cancel);
        if (reason is not null)
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
        await host.StopAsync(CancellationToken.None);
        if (Volatile.Read(ref joined) == 0 && reason is null)
        {
            Console.Error.WriteLine($"error: could not join the cluster at {seed} (is a 'fleetsim run --nodes' coordinator listening there?)");
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
