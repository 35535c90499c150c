using FleetSim.Bench;

// Usage: dotnet run -c Release --project bench/FleetSim.Bench -- [micro|fleet|all] [--devices N] [--seconds S] [--rate C] [--rounds R]
//        dotnet run -c Release --project bench/FleetSim.Bench -- soak [--devices N] [--minutes M] [--churn F] [--churn-every S] [--sample-every S]
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

Console.WriteLine($"# FleetSim benchmarks ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription})");
Console.WriteLine();
if (what is "micro" or "all")
    MicroBenchmarks.Run(Arg("--rounds", 7));
if (what is "fleet" or "all")
    await FleetBenchmark.RunAsync(Arg("--devices", 2000), Arg("--seconds", 20), Arg("--rate", 0));
if (what is "soak")
    await SoakBenchmark.RunAsync(Arg("--devices", 2000), Arg("--minutes", 30), Fraction("--churn", 0.05), Arg("--churn-every", 20), Arg("--sample-every", 60));
if (what is "sendlag")
    await SendLagBenchmark.RunAsync(Arg("--devices", 2000), Arg("--seconds", 20), Arg("--interval-ms", 1000), Arg("--real", 1) != 0);
