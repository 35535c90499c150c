using FleetSim.Bench;

// Usage: dotnet run -c Release --project bench/FleetSim.Bench -- [micro|fleet|all] [--devices N] [--seconds S] [--rate C] [--rounds R]
//        dotnet run -c Release --project bench/FleetSim.Bench -- peer [--devices N] [--seconds S] [--rate msgs/s per device] [--connect-rate C] [--no-node] [--no-connect] [--only fleetsim,raw,node]
//        dotnet run -c Release --project bench/FleetSim.Bench -- soak [--devices N] [--minutes M] [--churn F] [--churn-every S] [--sample-every S] [--churn-kind both|drop|restart] [--cap-arenas]
//        dotnet run -c Release --project bench/FleetSim.Bench -- idle [--devices N] [--seconds S] [--interval seconds between messages] [--only fleetsim,raw,raw-no-keepalive]
// First, before the thread pool grows: what fleetsim's Main does (restart with MALLOC_ARENA_MAX=2). soak --cap-arenas
// compares it with glibc's default; the peer and idle benchmarks' FleetSim generator runs as fleetsim does.
if (args.Contains("--cap-arenas") || args is ["peer-gen", "fleetsim", ..])
    FleetSim.Simulator.Memory.MallocArenas.Apply();
var arenaSetting = Environment.GetEnvironmentVariable(FleetSim.Simulator.Memory.MallocArenas.Variable);
var arenasCapped = arenaSetting is not null;
var what = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "all";
int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
}

double Fraction(string name, double fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && double.TryParse(args[i + 1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : fallback;
}

if (what == "peer-gen") // a generator child of `peer`: its own process, its lines on stdout
{
    var generatorArgs = FleetSim.Bench.Peer.GeneratorArgs.Parse(args[2..]);
    return args[1] switch
    {
        "raw" => await FleetSim.Bench.Peer.RawMqttFleet.RunAsync(generatorArgs),
        "fleetsim" => await FleetSim.Bench.Peer.FleetSimFleet.RunAsync(generatorArgs),
        _ => 2,
    };
}

Console.WriteLine($"# FleetSim benchmarks ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription})");
Console.WriteLine();
if (what is "micro" or "all")
    MicroBenchmarks.Run(Arg("--rounds", 7));
if (what is "fleet" or "all")
    await FleetBenchmark.RunAsync(Arg("--devices", 2000), Arg("--seconds", 20), Arg("--rate", 0));
if (what is "soak")
{
    var kindAt = Array.IndexOf(args, "--churn-kind");
    if (!SoakBenchmark.TryParseKind(kindAt >= 0 && kindAt + 1 < args.Length ? args[kindAt + 1] : null, out var kind))
    {
        Console.Error.WriteLine("soak: --churn-kind must be both, drop (only the hub drops connections) or restart (only devices stop and start)");
        return 2;
    }

    if (args.Contains("--cap-arenas"))
        Console.WriteLine(arenasCapped ? $"- malloc arenas capped: MALLOC_ARENA_MAX={arenaSetting} (as fleetsim runs)" : "- malloc arenas NOT capped (not glibc, or GLIBC_TUNABLES set)");
    await SoakBenchmark.RunAsync(Arg("--devices", 2000), Arg("--minutes", 30), Fraction("--churn", 0.05), Arg("--churn-every", 20), Arg("--sample-every", 60), kind);
}

if (what is "sendlag")
    await SendLagBenchmark.RunAsync(Arg("--devices", 2000), Arg("--seconds", 20), Arg("--interval-ms", 1000), Arg("--real", 1) != 0);
if (what is "idle")
    return await IdleBenchmark.RunAsync(Arg("--devices", 2000), Arg("--seconds", 60), Fraction("--interval", 30),
        Array.IndexOf(args, "--only") is var idleOnly and >= 0 && idleOnly + 1 < args.Length ? args[idleOnly + 1].Split(',').ToHashSet() : null);
if (what is "peer")
    return await FleetSim.Bench.Peer.PeerBenchmark.RunAsync(Arg("--devices", 1000), Arg("--seconds", 60), Fraction("--rate", 1), Fraction("--connect-rate", 200),
        args.Contains("--no-node"), args.Contains("--no-connect"),
        Array.IndexOf(args, "--only") is var only and >= 0 && only + 1 < args.Length ? args[only + 1].Split(',').ToHashSet() : null);
return 0;
