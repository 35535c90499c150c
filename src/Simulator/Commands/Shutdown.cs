using System.Runtime.InteropServices;

namespace FleetSim.Simulator.Commands;

/// <summary>
/// Turns Ctrl+C, SIGINT and SIGTERM into a cancellation the command handles itself (stop the run, still write the
/// report) instead of killing the process. A second Ctrl+C is left to the runtime, which ends the process.
/// </summary>
public sealed class Shutdown : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly PosixSignalRegistration _sigterm;
    private readonly PosixSignalRegistration _sigint;
    private int _signals;

    public Shutdown()
    {
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    public CancellationToken Token => _cts.Token;

    public string? Reason { get; private set; }

    private void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _signals) > 1)
            return; // second signal: let the default handling end the process
        context.Cancel = true;
        Reason = context.Signal == PosixSignal.SIGTERM ? "SIGTERM" : "Ctrl+C";
        _cts.Cancel();
    }

    public void Dispose()
    {
        _sigint.Dispose();
        _sigterm.Dispose();
        _cts.Dispose();
    }
}
