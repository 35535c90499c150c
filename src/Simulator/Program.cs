using System.CommandLine;
using FleetSim.Protocol;
using FleetSim.Simulator;

// First: on Linux with glibc, restart this process (same PID and arguments) with MALLOC_ARENA_MAX=2 unless the user
// chose a setting; fewer malloc arenas keep TLS churn from growing the resident set (bench/README.md, soak).
FleetSim.Simulator.Memory.MallocArenas.Apply();
var root = Cli.Create();

try
{
    // Ctrl+C and SIGTERM are handled by the commands themselves (a run still writes its report).
    var configuration = new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false };
    var parsed = root.Parse(args);
    if (parsed.Errors.Count > 0)
    {
        // Bad input is exit code 2 everywhere, also what the parser rejects (an unknown option, a value that is no number).
        foreach (var error in parsed.Errors)
            Console.Error.WriteLine($"error: {error.Message}");
        Console.Error.WriteLine("(fleetsim --help lists the commands; fleetsim COMMAND --help their options)");
        return ExitCodes.BadInput;
    }

    return await parsed.InvokeAsync(configuration);
}
catch (Exception e)
{
    // The last line of defence: a clear message, never a stack trace (set FLEETSIM_DEBUG=1 to see one).
    Console.Error.WriteLine($"error: {Redaction.Redact(e.Message)}");
    if (Environment.GetEnvironmentVariable("FLEETSIM_DEBUG") == "1")
        Console.Error.WriteLine(Redaction.Redact(e.ToString()));
    return ExitCodes.RunFailed;
}
