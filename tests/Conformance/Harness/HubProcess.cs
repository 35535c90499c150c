using System.Diagnostics;
using System.Text;
using FleetSim.Protocol;

namespace FleetSim.Conformance.Tests.Harness;

/// <summary>
/// `dotnet fleetsim.dll hub` as a child process on free ports (--mqtt-port 0 --https-port 0), in its own temporary
/// folder; ready once its state file is complete. Disposing kills it and removes the folder.
/// </summary>
public sealed class HubProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output;
    private readonly DirectoryInfo _workDirectory;

    private HubProcess(Process process, StringBuilder output, DirectoryInfo workDirectory, HubState state, string stateFile)
    {
        _process = process;
        _output = output;
        _workDirectory = workDirectory;
        State = state;
        StateFile = stateFile;
    }

    public HubState State { get; }

    /// <summary>The file given to --state-file (as the hub wrote it).</summary>
    public string StateFile { get; }

    /// <summary>The folder given to --data-dir.</summary>
    public string DataDirectory => Path.Combine(_workDirectory.FullName, "data");

    public bool HasExited => _process.HasExited;

    /// <summary>What the hub printed so far, secrets redacted.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return Redaction.Redact(_output.ToString());
            }
        }
    }

    public static async Task<HubProcess> StartAsync(string fleetsimDll, TimeSpan startTimeout)
    {
        if (!File.Exists(fleetsimDll))
        {
            throw new InvalidOperationException($"{fleetsimDll} does not exist: build src/Simulator first (dotnet build tests/Conformance does it).");
        }

        var work = Directory.CreateTempSubdirectory("fleetsim-conformance-");
        var stateFile = Path.Combine(work.FullName, "hub-state.json");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = work.FullName,
        };
        foreach (var arg in new[]
                 {
                     fleetsimDll, "hub", "--host-name", "localhost", "--bind", "127.0.0.1", "--mqtt-port", "0", "--https-port", "0",
                     "--state-file", stateFile, "--data-dir", Path.Combine(work.FullName, "data"),
                 })
        {
            start.ArgumentList.Add(arg);
        }

        var output = new StringBuilder();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + startTimeout;
        while (true)
        {
            var state = HubState.TryRead(stateFile);
            if (state is not null)
            {
                return new HubProcess(process, output, work, state, stateFile);
            }

            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                var why = process.HasExited ? $"exited with code {process.ExitCode}" : $"wrote no complete state file within {startTimeout.TotalSeconds:0} s";
                string printed;
                lock (output)
                {
                    printed = Redaction.Redact(output.ToString());
                }

                Kill(process);
                process.Dispose();
                TryDelete(work);
                throw new InvalidOperationException($"`fleetsim hub` {why}. Its output:\n{printed}");
            }

            await Task.Delay(50); // polling the state file the hub writes once it listens
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill(_process);
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // killed but not reaped in time; nothing more to do
        }

        _process.Dispose();
        TryDelete(_workDirectory);
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    private static void TryDelete(DirectoryInfo directory)
    {
        try
        {
            directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // a temp folder left behind is harmless
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
