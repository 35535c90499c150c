using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FleetSim.HubEmulator.Partitioning;
using FleetSim.HubEmulator.Throttling;
using FleetSim.Simulator.Cluster;
using FleetSim.Simulator.Commands;

namespace FleetSim.Simulator.Hub;

/// <summary>What every partition process of one hub is started with.</summary>
public sealed record PartitionSettings(
    int Count, string HostName, int MqttPort, int HttpsPort, string CertificatesFile, string DataDirectory, string ServiceKey,
    ThrottlingQuotas PartitionQuotas, TimeSpan SasExpiryGrace);

/// <summary>One running partition: where it listens.</summary>
public sealed record PartitionListener(int Index, string Host, int MqttPort, int HttpsPort);

/// <summary>A partition process that exited while the hub was meant to be running (crashed, killed, out of memory).</summary>
public sealed record PartitionExit(int Index, int ExitCode, DateTimeOffset At);

/// <summary>
/// The partition processes of a partitioned hub: <c>fleetsim hub-partition</c> children of this process (same
/// executable), each told to exit with it. Started when each has written its state file (listening); disposing stops
/// them (SIGTERM, then a kill after a grace period).
/// </summary>
public sealed class PartitionProcesses : IAsyncDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(10);

    private readonly List<Process> _processes = [];
    private readonly List<PartitionListener> _listeners = [];
    private readonly List<PartitionExit> _exits = [];
    private readonly TextWriter _log;
    private volatile bool _stopping;

    private PartitionProcesses(TextWriter log) => _log = log;

    public IReadOnlyList<PartitionListener> Listeners => _listeners;

    public IReadOnlyList<int> ProcessIds => [.. _processes.Select(static p => p.Id)];

    /// <summary>Raised (on a thread pool thread) when a partition exits before the hub stops it.</summary>
    public event Action<PartitionExit>? PartitionExited;

    /// <summary>The partitions that exited before the hub stopped them, in the order they did.</summary>
    public IReadOnlyList<PartitionExit> Exits
    {
        get
        {
            lock (_exits)
                return [.. _exits];
        }
    }

    /// <summary>
    /// Starts every partition and waits until each listens. With port 0 the first partition picks the ports and the
    /// others use the same numbers on their own addresses (so every partition has the same ports).
    /// </summary>
    public static async Task<PartitionProcesses> StartAsync(PartitionSettings settings, TextWriter log, CancellationToken ct)
    {
        var partitions = new PartitionProcesses(log);
        try
        {
            var (mqtt, https) = (settings.MqttPort, settings.HttpsPort);
            var first = 0;
            if (mqtt == 0 || https == 0)
            {
                var zero = await partitions.StartOneAsync(0, settings, mqtt, https, ct);
                (mqtt, https) = (zero.MqttPort, zero.HttpsPort);
                first = 1;
            }

            await Task.WhenAll(Enumerable.Range(first, settings.Count - first).Select(k => partitions.StartOneAsync(k, settings, mqtt, https, ct)));
            partitions._listeners.Sort(static (a, b) => a.Index.CompareTo(b.Index));
            return partitions;
        }
        catch
        {
            await partitions.DisposeAsync();
            throw;
        }
    }

    private async Task<PartitionListener> StartOneAsync(int index, PartitionSettings settings, int mqttPort, int httpsPort, CancellationToken ct)
    {
        var dataDir = Path.Combine(settings.DataDirectory, $"partition-{index}");
        Directory.CreateDirectory(dataDir);
        var stateFile = Path.Combine(dataDir, "partition-state.json");
        File.Delete(stateFile);
        var (file, prefix) = LocalWorkers.ThisExecutable();
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in prefix)
            start.ArgumentList.Add(a);
        var args = new List<string>
        {
            HubPartitionCommand.Name, "--index", I(index), "--of", I(settings.Count), "--host-name", settings.HostName,
            "--mqtt-port", I(mqttPort), "--https-port", I(httpsPort), "--certificates", settings.CertificatesFile, "--data-dir", dataDir,
            "--state-file", stateFile, "--exit-with", I(Environment.ProcessId),
            "--sas-expiry-grace-seconds", settings.SasExpiryGrace.TotalSeconds.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (name, rate) in new[]
                 {
                     ("--max-connects-per-second", settings.PartitionQuotas.ConnectsPerSecond), ("--max-telemetry-per-second", settings.PartitionQuotas.TelemetryPerSecond),
                     ("--max-twin-ops-per-second", settings.PartitionQuotas.TwinOperationsPerSecond),
                     ("--max-registry-ops-per-second", settings.PartitionQuotas.RegistryOperationsPerSecond),
                 })
        {
            if (rate is { } r)
                args.AddRange([name, r.ToString("R", CultureInfo.InvariantCulture)]);
        }

        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment[HubPartitionCommand.ServiceKeyVariable] = settings.ServiceKey; // not on the command line: ps shows that to everyone

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.Exited += (_, _) => OnExited(index, process);
        if (!process.Start())
            throw new InvalidOperationException($"hub partition {index} did not start");
        lock (_processes)
            _processes.Add(process);
        var errors = new List<string>();
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not { Length: > 0 } line)
                return;
            lock (errors)
                errors.Add(line);
            lock (_log)
                _log.WriteLine($"[hub partition {index}] {line}");
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + StartLimit;
        while (!File.Exists(stateFile))
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync(CancellationToken.None); // flush its stderr
                string said;
                lock (errors)
                    said = string.Join("; ", errors);
                throw new InvalidOperationException($"hub partition {index} exited (code {process.ExitCode}) before listening{(said.Length > 0 ? ": " + said : "")}");
            }

            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"hub partition {index} did not listen within {StartLimit.TotalSeconds:0} s");
            await Task.Delay(50, ct);
        }

        var state = JsonSerializer.Deserialize(await File.ReadAllTextAsync(stateFile, ct), HubStateJson.Default.HubState)
            ?? throw new InvalidOperationException($"hub partition {index} wrote an empty state file");
        var listener = new PartitionListener(index, PartitionAddresses.Of(index).ToString(), state.MqttPort, state.HttpsPort);
        lock (_listeners)
            _listeners.Add(listener);
        return listener;
    }

    private void OnExited(int index, Process process)
    {
        if (_stopping)
            return;
        int code;
        try
        {
            code = process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            code = -1; // disposed meanwhile
        }

        var exit = new PartitionExit(index, code, DateTimeOffset.UtcNow);
        lock (_exits)
            _exits.Add(exit);
        PartitionExited?.Invoke(exit);
    }

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Partitions that have exited (one crashing during a run shows up here).</summary>
    public int Exited
    {
        get
        {
            lock (_processes)
                return _processes.Count(static p => p.HasExited);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        List<Process> processes;
        lock (_processes)
            processes = [.. _processes];
        foreach (var process in processes)
        {
            if (process.HasExited)
                continue;
            try
            {
                using var term = Process.Start("kill", ["-TERM", I(process.Id)]);
                await term.WaitForExitAsync(CancellationToken.None);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // no kill command: the kill below still ends it
            }
        }

        using (var deadline = new CancellationTokenSource(ExitGrace))
        {
            foreach (var process in processes)
            {
                try
                {
                    await process.WaitForExitAsync(deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        foreach (var process in processes)
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
            process.Dispose();
        }

        lock (_processes)
            _processes.Clear();
    }
}
