using System.Diagnostics;
using System.Globalization;

namespace FleetSim.Simulator.Cluster;

/// <summary>
/// The worker processes of <c>fleetsim run --nodes N</c>: N <c>fleetsim node</c> processes of this same executable on
/// this machine, joined to the coordinator's address, each told to exit with this process. Disposing stops every one of
/// them (they normally leave by themselves once the coordinator is gone): SIGTERM, then a kill after a grace period.
/// </summary>
public sealed class LocalWorkers : IAsyncDisposable
{
    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(15);

    private readonly List<Process> _processes = [];
    private readonly TextWriter _log;
    private volatile bool _silenced;

    private LocalWorkers(TextWriter log) => _log = log;

    public IReadOnlyList<int> ProcessIds => [.. _processes.Select(static p => p.Id)];

    public static LocalWorkers Start(int count, string seed, TextWriter log)
    {
        var workers = new LocalWorkers(log);
        try
        {
            for (var i = 1; i <= count; i++)
                workers._processes.Add(workers.StartOne(i, seed));
        }
        catch
        {
            workers.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        return workers;
    }

    private Process StartOne(int number, string seed)
    {
        var (file, prefix) = ThisExecutable();
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in prefix)
            start.ArgumentList.Add(a);
        foreach (var a in new[] { "node", "--seed", seed, "--port", "0", "--exit-with", Environment.ProcessId.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = Process.Start(start) ?? throw new InvalidOperationException($"worker {number} did not start");
        // Drain both streams (a full pipe would block the worker); its errors go to this process's stderr, marked.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line && !_silenced)
            {
                lock (_log)
                    _log.WriteLine($"[worker {number}] {line}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>How this process was started: an apphost (fleetsim), or dotnet with fleetsim.dll.</summary>
    internal static (string File, string[] Prefix) ThisExecutable()
    {
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this executable is unknown");
        return Path.GetFileNameWithoutExtension(path).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? (path, [typeof(LocalWorkers).Assembly.Location])
            : (path, []);
    }

    /// <summary>Stops showing the workers' stderr (their expected shutdown chatter once the run has ended).</summary>
    public void Silence() => _silenced = true;

    /// <summary>Workers that have already exited (a worker crashing during the run shows up here).</summary>
    public int Exited => _processes.Count(static p => p.HasExited);

    public async ValueTask DisposeAsync()
    {
        // They leave by themselves once the coordinator is gone; give them a moment, then ask, then insist.
        await WaitAllAsync(TimeSpan.FromSeconds(5));
        foreach (var process in _processes)
        {
            if (process.HasExited)
                continue;
            try
            {
                using var term = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]);
                await term.WaitForExitAsync(CancellationToken.None);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // no kill command: the kill below still ends it
            }
        }

        await WaitAllAsync(ExitGrace);
        foreach (var process in _processes)
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
            process.Dispose();
        }

        _processes.Clear();
    }

    private async Task WaitAllAsync(TimeSpan limit)
    {
        using var deadline = new CancellationTokenSource(limit);
        foreach (var process in _processes)
        {
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
