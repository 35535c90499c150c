using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FleetSim.Bench.Peer;

/// <summary>
/// What a generator child process prints on its last line as <c>RESULT {json}</c>: its own view of the run.
/// Latencies are from the intended send time to the PUBACK (ms); lag is from the intended send time to the call
/// that hands the message to the client library (null when the generator does not measure it).
/// </summary>
public sealed record GeneratorResult(
    int Devices, int Connected, double ConnectSeconds, long ConnectRetries, long Sent, long Acked, long Failed, double WindowSeconds,
    double? P50Ms, double? P99Ms, double? LagP50Ms = null, double? LagP99Ms = null, double? StormSeconds = null, string? Note = null)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public const string StartingLine = "STARTING";
    public const string ReadyLine = "READY";
    public const string WindowEndLine = "WINDOW_END";

    /// <summary>Printed by a storm run once every device is connected again (the benchmark reads the CPU there).</summary>
    public const string StormEndLine = "STORM_END";
    public const string ResultPrefix = "RESULT ";

    public string ToLine() => ResultPrefix + JsonSerializer.Serialize(this, Json);

    public static GeneratorResult Parse(string line) =>
        JsonSerializer.Deserialize<GeneratorResult>(line[ResultPrefix.Length..], Json)
        ?? throw new FormatException("empty RESULT line");
}

/// <summary>
/// One generator's run as the benchmark measured it from outside (its /proc) plus its own result. CPU figures in ms:
/// over the window (READY to WINDOW_END), over the connect phase (STARTING to READY) and over the storm (WINDOW_END,
/// when the hub drops every connection, to STORM_END), each for the generator and for the hub.
/// </summary>
public sealed record PeerRun(
    string Name, GeneratorResult Result, double GeneratorCpuMs, double HubCpuMs, long RssBaselineBytes, long RssSteadyBytes, long HubRssBytes,
    double? ConnectGeneratorCpuMs = null, double? ConnectHubCpuMs = null, double? StormGeneratorCpuMs = null, double? StormHubCpuMs = null)
{
    public double MessagesPerSecond => Result.WindowSeconds > 0 ? Result.Acked / Result.WindowSeconds : 0;

    /// <summary>Generator CPU (user + system) per 1,000 acknowledged messages in the window.</summary>
    public double? CpuMsPer1000 => Result.Acked > 0 ? GeneratorCpuMs / Result.Acked * 1000 : null;

    public double? HubCpuMsPer1000 => Result.Acked > 0 ? HubCpuMs / Result.Acked * 1000 : null;

    /// <summary>Generator CPU in cores over the window (1.0 = one core busy).</summary>
    public double CpuCores => Result.WindowSeconds > 0 ? GeneratorCpuMs / (Result.WindowSeconds * 1000) : 0;

    public double HubCpuCores => Result.WindowSeconds > 0 ? HubCpuMs / (Result.WindowSeconds * 1000) : 0;

    /// <summary>(steady RSS - RSS before the first connect) / devices, in KB.</summary>
    public double RssPerDeviceKb => Result.Devices > 0 ? (RssSteadyBytes - RssBaselineBytes) / 1024.0 / Result.Devices : 0;

    public double? ConnectsPerSecond => Result.ConnectSeconds > 0 ? Result.Connected / Result.ConnectSeconds : null;

    /// <summary>Generator CPU per connected device over the connect phase (ms).</summary>
    public double? GeneratorCpuMsPerConnect => PerDevice(ConnectGeneratorCpuMs, Result.Connected);

    public double? HubCpuMsPerConnect => PerDevice(ConnectHubCpuMs, Result.Connected);

    /// <summary>Generator CPU per device over the storm (ms): each device reconnected once, or more after failures.</summary>
    public double? GeneratorCpuMsPerReconnect => Result.StormSeconds is null ? null : PerDevice(StormGeneratorCpuMs, Result.Devices);

    public double? HubCpuMsPerReconnect => Result.StormSeconds is null ? null : PerDevice(StormHubCpuMs, Result.Devices);

    private static double? PerDevice(double? ms, int devices) => ms is { } v && devices > 0 ? v / devices : null;
}

/// <summary>The one table the peer benchmark prints: every generator side by side, each cell with its ratio to the reference run.</summary>
public static class PeerTable
{
    public static double? Ratio(double? value, double? reference) =>
        value is { } v && reference is { } r && r > 0 ? v / r : null;

    public static string Render(IReadOnlyList<PeerRun> runs, string referenceName)
    {
        var reference = runs.FirstOrDefault(r => r.Name == referenceName);
        var sb = new StringBuilder();
        sb.Append("| |");
        foreach (var run in runs)
            sb.Append(' ').Append(run.Name).Append(" |");
        sb.AppendLine();
        sb.Append("|---|");
        foreach (var _ in runs)
            sb.Append("---:|");
        sb.AppendLine();

        Row(sb, runs, reference, "PUBACK latency p50 (ms)", r => r.Result.P50Ms, "0.00");
        Row(sb, runs, reference, "PUBACK latency p99 (ms)", r => r.Result.P99Ms, "0.00");
        Row(sb, runs, reference, "send lag p50 / p99 (ms)", r => r.Result.LagP50Ms, "0.00", r => r.Result.LagP99Ms, ratios: false);
        Row(sb, runs, reference, "acked msg/s (window)", r => r.MessagesPerSecond, "0");
        Row(sb, runs, reference, "generator CPU ms per 1,000 msgs", r => r.CpuMsPer1000, "0.0");
        Row(sb, runs, reference, "generator CPU (cores)", r => r.CpuCores, "0.000");
        Row(sb, runs, reference, "generator RSS per device (KB, steady - baseline)", r => r.RssPerDeviceKb, "0.0");
        Row(sb, runs, reference, "generator RSS baseline / steady (MB)", r => r.RssBaselineBytes / 1048576.0, "0", r => r.RssSteadyBytes / 1048576.0, ratios: false);
        Row(sb, runs, reference, "hub CPU ms per 1,000 msgs", r => r.HubCpuMsPer1000, "0.0");
        Row(sb, runs, reference, "hub CPU (cores) / RSS (MB)", r => r.HubCpuCores, "0.00", r => r.HubRssBytes / 1048576.0, ratios: false);
        Row(sb, runs, reference, "connect all (s) / connects/s", r => r.Result.ConnectSeconds, "0.00", r => r.ConnectsPerSecond, ratios: false);
        Row(sb, runs, reference, "sent / acked / failed", r => r.Result.Sent, "0", r => r.Result.Acked, ratios: false, third: r => r.Result.Failed);
        return sb.ToString();
    }

    private static void Row(StringBuilder sb, IReadOnlyList<PeerRun> runs, PeerRun? reference, string label, Func<PeerRun, double?> value, string format,
        Func<PeerRun, double?>? second = null, bool ratios = true, Func<PeerRun, double?>? third = null)
    {
        sb.Append("| ").Append(label).Append(" |");
        foreach (var run in runs)
        {
            sb.Append(' ').Append(Format(value(run), format));
            if (second is not null)
                sb.Append(" / ").Append(Format(second(run), format));
            if (third is not null)
                sb.Append(" / ").Append(Format(third(run), format));
            if (ratios && reference is not null && !ReferenceEquals(run, reference) && Ratio(value(run), value(reference)) is { } ratio)
                sb.Append(" (").Append(ratio.ToString("0.00", CultureInfo.InvariantCulture)).Append("x)");
            sb.Append(" |");
        }

        sb.AppendLine();
    }

    private static string Format(double? value, string format) =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "n/a";
}
