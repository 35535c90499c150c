using System.Diagnostics;
using System.Text;

namespace FleetSim.Simulator.Tests.Deploy;

/// <summary>A fleetsim process a test starts, watches while it runs and always stops (Dispose kills what is still running).</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly StringBuilder _output = new();

    private ChildProcess(Process process, string name)
    {
        Process = process;
        Name = name;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public string Name { get; }

    public static ChildProcess Start(string name, string workingDirectory, IEnumerable<string> args)
    {
        return new ChildProcess(Process.Start(Fleetsim.StartInfo(workingDirectory, args))!, name);
    }

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    /// <summary>Polls (with a deadline) until the condition holds; fails early when the process exited.</summary>
    public Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan timeout) =>
        Poll.UntilAsync(condition, $"{what} ({Name})", timeout, () => Process.HasExited ? $"{Name} exited" : null, () => Output);

    /// <summary>Polls until the process printed <paramref name="text"/>.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan timeout) =>
        WaitUntilAsync(() => Output.Contains(text, StringComparison.Ordinal), $"'{text}' printed", timeout);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await Process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"{Name} did not exit within {timeout}:\n{Output}");
        }

        Process.WaitForExit(); // flush the output events
        return Process.ExitCode;
    }

    /// <summary>SIGTERM, as a container runtime stops a container.</summary>
    public void Terminate()
    {
        if (Process.HasExited)
            return;
        using var kill = Process.Start("kill", ["-TERM", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Ends the process and its children if it is still running (a failed test); the exit code stays readable.</summary>
    public void Kill()
    {
        if (!Process.HasExited)
            Process.Kill(entireProcessTree: true);
    }

    public void Dispose()
    {
        Kill();
        Process.Dispose();
    }
}
