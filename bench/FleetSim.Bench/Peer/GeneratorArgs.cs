using System.Globalization;

namespace FleetSim.Bench.Peer;

/// <summary>
/// What every generator child gets: the devices (a file of "id key" lines written by the benchmark, which
/// registered them), where the hub is, and the workload. The same for the .NET generators and bench/peer/fleet.js.
/// </summary>
public sealed record GeneratorArgs(
    string DevicesFile, string HostName, int MqttPort, string CaPath, double Seconds, double RatePerDevice, double ConnectRate, string Mode, bool Storm)
{
    public static GeneratorArgs Parse(string[] args)
    {
        string Text(string name) =>
            Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"missing {name}");
        double Number(string name, double fallback) =>
            Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        return new GeneratorArgs(Text("--devices-file"), Text("--host-name"), (int)Number("--port", 8883), Text("--ca"), Number("--seconds", 60),
            Number("--rate", 1), Number("--connect-rate", 0), Array.IndexOf(args, "--mode") is var m and >= 0 ? args[m + 1] : "spread",
            Array.IndexOf(args, "--storm") >= 0);
    }

    public IEnumerable<string> ToArgs()
    {
        yield return "--devices-file";
        yield return DevicesFile;
        yield return "--host-name";
        yield return HostName;
        yield return "--port";
        yield return MqttPort.ToString(CultureInfo.InvariantCulture);
        yield return "--ca";
        yield return CaPath;
        yield return "--seconds";
        yield return Seconds.ToString(CultureInfo.InvariantCulture);
        yield return "--rate";
        yield return RatePerDevice.ToString(CultureInfo.InvariantCulture);
        yield return "--connect-rate";
        yield return ConnectRate.ToString(CultureInfo.InvariantCulture);
        yield return "--mode";
        yield return Mode;
        if (Storm)
            yield return "--storm";
    }

    public (string Id, string Key)[] ReadDevices() =>
        File.ReadAllLines(DevicesFile).Where(l => l.Length > 0).Select(l => l.Split(' ')).Select(p => (p[0], p[1])).ToArray();

    /// <summary>RSS of this process now (VmRSS), for the STARTING line.</summary>
    public static long OwnRss() => ProcSampler.ParseRssBytes(File.ReadAllText("/proc/self/status"));
}
