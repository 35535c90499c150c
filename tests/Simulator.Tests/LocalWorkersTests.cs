using System.Diagnostics;
using FleetSim.Simulator.Cluster;

namespace FleetSim.Simulator.Tests;

/// <summary>
/// The local worker processes of <c>fleetsim run --nodes N</c>, with shell stand-ins for <c>fleetsim node</c>: once the run
/// has ended their stderr is hidden, but a worker that exits non-zero is still reported, in one line.
/// </summary>
public sealed class LocalWorkersTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-workers-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Gate => Path.Combine(_dir, "gate");

    /// <summary>A stand-in worker: once the gate file exists it runs <paramref name="then"/> and exits with <paramref name="exitCode"/>.</summary>
    private ProcessStartInfo Worker(string then, int exitCode)
    {
        var start = new ProcessStartInfo("/bin/sh");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"while [ ! -e '{Gate}' ]; do sleep 0.05; done; {then} exit {exitCode}");
        return start;
    }

    /// <summary>Whether the log has <paramref name="text"/> (LocalWorkers writes to it under a lock on it).</summary>
    private static bool Shown(StringWriter log, string text)
    {
        lock (log)
            return log.ToString().Contains(text, StringComparison.Ordinal);
    }

    private static string[] Lines(StringWriter log) => log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Fact]
    public async Task A_worker_that_fails_after_the_run_ended_is_reported_in_one_line_without_its_stack_trace()
    {
        var log = new StringWriter();
        var workers = LocalWorkers.Start(
        [
            Worker("echo 'node left the cluster (the run coordinator is gone)' >&2;", 0),
            Worker("echo 'Unhandled exception. System.InvalidOperationException: the shard store is gone' >&2;"
                + " echo '   at FleetSim.Cluster.Worker.WorkerNode.PostStop()' >&2; echo '--- End of stack trace from previous location ---' >&2;", 3),
        ], log);
        try
        {
            workers.Silence(); // the run has ended
            await File.WriteAllTextAsync(Gate, "");
        }
        finally
        {
            await workers.DisposeAsync();
        }

        // The clean worker's chatter stays hidden; the failed one is one line: number, pid, code, what failed, no frames.
        var line = Assert.Single(Lines(log));
        Assert.Matches(@"^warning: worker 2 \(pid \d+\) exited with code 3 after the run ended: Unhandled exception\. System\.InvalidOperationException: the shard store is gone$", line);
    }

    [Fact]
    public async Task A_worker_that_fails_during_the_run_is_shown_as_it_happens_and_its_exit_code_is_reported()
    {
        await File.WriteAllTextAsync(Gate, "");
        var log = new StringWriter();
        var workers = LocalWorkers.Start([Worker("echo 'error: could not join the cluster' >&2;", 3), Worker("", 0)], log);
        try
        {
            await Poll.UntilAsync(() => workers.Exited == 2 && Shown(log, "[worker 1]"), "both workers exited and worker 1's error shown", TimeSpan.FromSeconds(30));
            workers.Silence();
        }
        finally
        {
            await workers.DisposeAsync();
        }

        var lines = Lines(log);
        Assert.Equal(2, lines.Length);
        Assert.Equal("[worker 1] error: could not join the cluster", lines[0]);
        Assert.Matches(@"^warning: worker 1 \(pid \d+\) exited with code 3 during the run$", lines[1]);
    }
}
