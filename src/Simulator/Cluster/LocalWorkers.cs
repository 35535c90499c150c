using System.Diagnostics;
using System.Globalization;

namespace FleetSim.Simulator.Cluster;

/// <summary>
/// The worker processes of <c>fleetsim run --nodes N</c>: N <c>fleetsim node</c> processes of this same executable on
/// this machine, joined to the coordinator's address, each told to exit with this process. Disposing stops every one of
/// them (they normally leave by themselves once the coordinator is gone): SIGTERM, then a kill after a grace period; then
/// every worker that exited non-zero (or was killed) is reported in one line, with its last error line if the run had
/// already ended (its stderr hidden by <see cref="Silence"/>), never a stack trace.
/// </summary>
public sealed class LocalWorkers : IAsyncDisposable
{
    /// <summary>How long workers get to leave by themselves once the run's actor system has stopped.</summary>
    private static readonly TimeSpan LeaveGrace = TimeSpan.FromSeconds(5);

    /// <summary>How long they get after a SIGTERM (and a kill) to exit.</summary>
    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(15);

    private readonly List<Process> _processes = [];
    private readonly TextWriter _log;
    private readonly string?[] _lastError;
    private readonly HashSet<int> _exitedDuringRun = [];
    private readonly HashSet<int> _killed = [];
    private volatile bool _silenced;

    private LocalWorkers(TextWriter log, int count)
    {
        _log = log;
        _lastError = new string?[count];
    }

    public IReadOnlyList<int> ProcessIds => [.. _processes.Select(static p => p.Id)];

    public static LocalWorkers Start(int count, string seed, TextWriter log)
    {
        var processes = new ProcessStartInfo[count];
        for (var i = 0; i < count; i++)
            processes[i] = NodeProcess(seed);
        return Start(processes, log);
    }

    /// <summary>Starts <paramref name="processes"/> as workers 1 to N (<see cref="Start(int,string,TextWriter)"/>; tests start stand-ins).</summary>
    public static LocalWorkers Start(IReadOnlyList<ProcessStartInfo> processes, TextWriter log)
    {
        var workers = new LocalWorkers(log, processes.Count);
        try
        {
            for (var i = 0; i < processes.Count; i++)
                workers._processes.Add(workers.StartOne(i + 1, processes[i]));
        }
        catch
        {
            workers.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        return workers;
    }

    private static ProcessStartInfo NodeProcess(string seed)
    {
        var (file, prefix) = ThisExecutable();
        var start = new ProcessStartInfo(file);
        foreach (var a in prefix)
            start.ArgumentList.Add(a);
        foreach (var a in new[] { "node", "--seed", seed, "--port", "0", "--exit-with", Environment.ProcessId.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return start;
    }

    private Process StartOne(int number, ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"worker {number} did not start");
        // Drain both streams (a full pipe would block the worker); its errors go to this process's stderr, marked.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not { Length: > 0 } line)
                return;
            if (!IsStackFrame(line))
                _lastError[number - 1] = line;
            if (!_silenced)
            {
                lock (_log)
                    _log.WriteLine($"[worker {number}] {line}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>A line of a .NET stack trace ("   at ...", "--- End of ... ---"): never the line that says what failed.</summary>
    private static bool IsStackFrame(string line)
    {
        var text = line.AsSpan().TrimStart();
        return text.StartsWith("at ", StringComparison.Ordinal) || text.StartsWith("---", StringComparison.Ordinal);
    }

    /// <summary>How this process was started: an apphost (fleetsim), or dotnet with fleetsim.dll.</summary>
    internal static (string File, string[] Prefix) ThisExecutable()
    {
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this executable is unknown");
        return Path.GetFileNameWithoutExtension(path).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? (path, [typeof(LocalWorkers).Assembly.Location])
            : (path, []);
    }

    /// <summary>
    /// Stops showing the workers' stderr (their expected shutdown chatter once the run has ended). Their exit codes are
    /// still checked when they are disposed: a worker that exits non-zero is reported in one line.
    /// </summary>
    public void Silence()
    {
        for (var i = 0; i < _processes.Count; i++)
        {
            if (_processes[i].HasExited)
                _exitedDuringRun.Add(i + 1);
        }

        _silenced = true;
    }

    /// <summary>Workers that have already exited (a worker crashing during the run shows up here).</summary>
    public int Exited => _processes.Count(static p => p.HasExited);

    public async ValueTask DisposeAsync()
    {
        // They leave by themselves once the coordinator is gone; give them a moment, then ask, then insist.
        await WaitAllAsync(LeaveGrace);
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
        for (var i = 0; i < _processes.Count; i++)
        {
            if (_processes[i].HasExited)
                continue;
            _processes[i].Kill(entireProcessTree: true);
            _killed.Add(i + 1);
        }

        await WaitAllAsync(ExitGrace);
        ReportExits();
        foreach (var process in _processes)
            process.Dispose();
        _processes.Clear();
    }

    /// <summary>One line for each worker that did not end cleanly (exit code 0), with its last error line if it had one.</summary>
    private void ReportExits()
    {
        for (var i = 0; i < _processes.Count; i++)
        {
            var process = _processes[i];
            var number = i + 1;
            var exited = process.HasExited;
            if (exited)
                process.WaitForExit(); // returns once its stderr is read to the end
            string? what = null;
            if (_killed.Contains(number))
                what = $"did not exit within {(LeaveGrace + ExitGrace).TotalSeconds:0} s of the run's end (a SIGTERM included) and was killed";
            else if (exited && process.ExitCode != 0)
                what = $"exited with code {process.ExitCode}{Signal(process.ExitCode)} {(_exitedDuringRun.Contains(number) || !_silenced ? "during the run" : "after the run ended")}";
            if (what is null)
                continue;
            var detail = _silenced && !_exitedDuringRun.Contains(number) && _lastError[i] is { } last ? ": " + Shorten(FleetSim.Protocol.Redaction.Redact(last)) : "";
            lock (_log)
                _log.WriteLine($"warning: worker {number} (pid {process.Id}) {what}{detail}");
        }
    }

    /// <summary>.NET reports a process ended by a signal as 128 + the signal's number.</summary>
    private static string Signal(int code) => code is > 128 and < 160 ? $" (signal {code - 128})" : "";

    private static string Shorten(string line) => line.Length <= 300 ? line : line[..300] + "...";

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
