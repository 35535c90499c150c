using System.Diagnostics;
using System.Text;

namespace FleetSim.Simulator.Tests;

/// <summary>Runs the real fleetsim command (the built fleetsim.dll) as a child process and captures what it printed.</summary>
public static class Fleetsim
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string All => Stdout + Stderr;
    }

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "fleetsim.dll");

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FleetSim.sln")))
                dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("FleetSim.sln not found above the test binaries");
        }
    }

    /// <summary>How a test starts fleetsim: the built dll through dotnet, output redirected, no CLI telemetry.</summary>
    public static ProcessStartInfo StartInfo(string workingDirectory, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Dll);
        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        return start;
    }

    public static Task<Result> RunAsync(TimeSpan timeout, string workingDirectory, params string[] args) =>
        RunAsync(timeout, workingDirectory, args, null);

    /// <summary>Runs fleetsim with extra environment variables (e.g. secrets a scenario reads as ${NAME}).</summary>
    public static async Task<Result> RunAsync(TimeSpan timeout, string workingDirectory, string[] args, IReadOnlyDictionary<string, string>? environment)
    {
        using var process = Process.Start(StartInfo(workingDirectory, args, environment))!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"fleetsim {string.Join(' ', args)} did not finish within {timeout}:\n{stdout}\n{stderr}");
        }

        process.WaitForExit(); // flush the output events
        return new Result(process.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
