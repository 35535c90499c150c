using FleetSim.Metrics;
using HdrHistogram;

namespace FleetSim.Reporting;

/// <summary>
/// A fault as the recovery analysis sees it: when it started and ended (an instant fault ends when it starts), its kind and
/// which devices it may have taken down. Faults that fire together are told apart by these: a device's loss goes to a fault
/// that could have hit the device, preferring one whose kind explains the loss (<see cref="RecoveryAnalysis"/>).
/// </summary>
public sealed record FaultWindow(DateTimeOffset Start, DateTimeOffset End)
{
    /// <summary>The fault's kind by its REST name (<c>drop</c>, <c>hub-restart</c>, <c>blackhole</c>, ...); null when not known.</summary>
    public string? Kind { get; init; }

    /// <summary>
    /// The devices the fault may have taken down (those it closed or silenced, or those it targeted); null when it may have hit
    /// any device (a hub restart, a fault on every device, or one whose devices are not known by id).
    /// </summary>
    public IReadOnlySet<string>? Devices { get; init; }

    /// <summary>True when the fault may have taken <paramref name="deviceId"/> down.</summary>
    public bool MayHit(string deviceId) => Devices is null || Devices.Contains(deviceId);
}

/// <summary>The recovery of each fault (null for a fault that was not applied) and over all of them.</summary>
public sealed record RecoveryResult(IReadOnlyList<FaultRecovery?> PerFault, RecoverySummary Summary);

/// <summary>
/// Correlates the devices' connection events with the run's fault windows, after the run: which devices each fault
/// took down, when each came back, when the fleet was whole again, and what the time series says about the recovery
/// window (connect attempts per second against the hub's limit, retries by reason, telemetry queued, re-sent and
/// dropped, the hub's loss accounting). Works for any fault kind: it needs only when a fault started and ended.
/// A loss is credited to one fault among those whose window covers it (from its start to its end plus the attribution
/// window) and that may have hit the device (<see cref="FaultWindow.MayHit"/>: a drop of 10 % hits only the devices it
/// closed, a hub restart hits everyone). When several qualify, a fault whose kind explains the loss's reason wins (a drop
/// or a restart closes connections: <c>network</c>; a blackhole or latency is noticed as a <c>timeout</c>), then one that
/// named the device over one that hit everyone, and only then the latest.
/// </summary>
public static class RecoveryAnalysis
{
    /// <summary>How many device ids a report names (never-reconnected devices, twin offenders).</summary>
    public const int IdsShown = 20;

    /// <summary>The shortest attribution window: a loss this long after a fault's end still belongs to it.</summary>
    public static readonly TimeSpan MinimumAttribution = TimeSpan.FromSeconds(5);

    /// <summary>Storm chart points per fault at most (one per second).</summary>
    public const int MaxStormPoints = 900;

    private enum Ending { Reconnected, LeftFleet, NeverBack }

    private readonly record struct Outage(string DeviceId, long LostAtMs, long EndedAtMs, Ending Ending, string? Reason);

    /// <param name="faults">Fault windows, in the report's order (null: the fault was not applied).</param>
    /// <param name="events">Every device's connection events (<see cref="RecoveryLog.Events"/>).</param>
    /// <param name="series">The run's 1-second samples (counters and gauges read at the window's edges).</param>
    /// <param name="stoppingAt">When the run began stopping its devices: a device stopped then while still disconnected never came back;
    /// one stopped earlier (a ramp-down) left the fleet on purpose.</param>
    /// <param name="attribution">How long after a fault's end a loss still counts as caused by it (a device notices a silent hub only
    /// after its keep-alive); at least <see cref="MinimumAttribution"/>.</param>
    /// <param name="connectLimitPerSecond">The hub's connect limit when known (an emulator quota), else null.</param>
    /// <param name="eventsDiscarded">Events the log could not keep (<see cref="RecoveryLog.Discarded"/>).</param>
    public static RecoveryResult Analyze(IReadOnlyList<FaultWindow?> faults, IReadOnlyList<RecoveryEvent> events, IReadOnlyList<MetricsSample> series,
        DateTimeOffset stoppingAt, TimeSpan attribution, double? connectLimitPerSecond, long eventsDiscarded = 0)
    {
        ArgumentNullException.ThrowIfNull(faults);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(series);
        if (attribution < MinimumAttribution)
            attribution = MinimumAttribution;

        var outages = Outages(events, stoppingAt.ToUnixTimeMilliseconds());
        var order = Enumerable.Range(0, faults.Count).Where(i => faults[i] is not null).OrderBy(i => faults[i]!.Start).ToArray();
        var byFault = new Dictionary<int, List<Outage>>();
        var claimed = new HashSet<(int Fault, string DeviceId)>();
        foreach (var outage in outages.OrderBy(static o => o.LostAtMs))
        {
            var credited = Culprit(outage, faults, order, attribution, claimed);
            if (credited < 0)
                continue;
            if (OneLossPerDevice(faults[credited]!.Kind))
                claimed.Add((credited, outage.DeviceId));
            if (!byFault.TryGetValue(credited, out var list))
                byFault[credited] = list = [];
            list.Add(outage);
        }

        var perFault = new FaultRecovery?[faults.Count];
        var union = OperationMetrics.NewHistogram();
        var affected = 0;
        var recovered = 0;
        var never = new SortedSet<string>(StringComparer.Ordinal);
        for (var k = 0; k < order.Length; k++)
        {
            var index = order[k];
            var window = faults[index]!;
            DateTimeOffset? next = null; // the next fault that starts later (one at the same moment is this one's neighbour, not its end)
            for (var j = k + 1; j < order.Length && next is null; j++)
            {
                if (faults[order[j]]!.Start > window.Start)
                    next = faults[order[j]]!.Start;
            }

            var recovery = ForFault(window, next, byFault.GetValueOrDefault(index) ?? [], series, stoppingAt, connectLimitPerSecond, union,
                out var neverIds);
            perFault[index] = recovery;
            affected += recovery.DevicesAffected;
            recovered += recovery.DevicesRecovered;
            never.UnionWith(neverIds);
        }

        var summary = new RecoverySummary(order.Length, affected, recovered, Percentile(union, 50), Percentile(union, 99),
            union.TotalCount == 0 ? null : union.GetMaxValue() / 1000.0, never.Count, [.. never.Take(IdsShown)], eventsDiscarded);
        return new RecoveryResult(perFault, summary);
    }

    private static FaultRecovery ForFault(FaultWindow fault, DateTimeOffset? nextStart, List<Outage> outages, IReadOnlyList<MetricsSample> series,
        DateTimeOffset stoppingAt, double? limit, HistogramBase union, out SortedSet<string> never)
    {
        // Per device, its last outage in the window decides: back (and when), left on purpose, or never back.
        var last = new Dictionary<string, Outage>(StringComparer.Ordinal);
        foreach (var o in outages.OrderBy(static o => o.LostAtMs))
            last[o.DeviceId] = o;

        var startMs = fault.Start.ToUnixTimeMilliseconds();
        var histogram = OperationMetrics.NewHistogram();
        never = new SortedSet<string>(StringComparer.Ordinal);
        long latestBackMs = 0;
        foreach (var (id, o) in last)
        {
            switch (o.Ending)
            {
                case Ending.Reconnected:
                    var micros = Math.Clamp((o.EndedAtMs - startMs) * 1000, 0, 3_600_000_000L);
                    histogram.RecordValue(micros);
                    union.RecordValue(micros);
                    latestBackMs = Math.Max(latestBackMs, o.EndedAtMs);
                    break;
                case Ending.NeverBack:
                    never.Add(id);
                    break;
            }
        }

        var recovered = (int)histogram.TotalCount;
        var affected = recovered + never.Count;
        DateTimeOffset? wholeAgain = affected > 0 && never.Count == 0 ? DateTimeOffset.FromUnixTimeMilliseconds(Math.Max(latestBackMs, startMs)) : null;
        var windowEnd = wholeAgain ?? (affected == 0 ? fault.End : Min(nextStart ?? stoppingAt, stoppingAt));
        if (windowEnd < fault.End)
            windowEnd = fault.End;

        var before = SampleAtOrBefore(series, fault.Start);
        var after = SampleAtOrAfter(series, windowEnd);
        var storm = new List<StormPoint>();
        var peak = 0.0;
        var over = 0;
        for (var i = 1; i < series.Count && storm.Count < MaxStormPoints; i++)
        {
            var s = series[i];
            if (s.At <= fault.Start || s.At > windowEnd + TimeSpan.FromSeconds(1))
                continue;
            var attempts = Counter(s, RecoveryMetrics.ConnectAttempts) - Counter(series[i - 1], RecoveryMetrics.ConnectAttempts);
            var dt = Math.Max((s.At - series[i - 1].At).TotalSeconds, 0.001);
            var rate = attempts / dt;
            peak = Math.Max(peak, rate);
            if (limit is { } l && rate > l)
                over++;
            storm.Add(new StormPoint(Math.Round((s.At - fault.Start).TotalSeconds, 3), attempts));
        }

        var retries = new SortedDictionary<string, long>(StringComparer.Ordinal);
        if (after is not null)
        {
            foreach (var (name, value) in after.Counters)
            {
                if (!name.StartsWith(RecoveryMetrics.RetriesPrefix, StringComparison.Ordinal))
                    continue;
                var grew = value - (before is null ? 0 : Counter(before, name));
                if (grew > 0)
                    retries[name[RecoveryMetrics.RetriesPrefix.Length..]] = grew;
            }
        }

        return new FaultRecovery(
            affected,
            recovered,
            Percentile(histogram, 50),
            Percentile(histogram, 99),
            recovered == 0 ? null : histogram.GetMaxValue() / 1000.0,
            wholeAgain is { } w ? Math.Round((w - fault.Start).TotalSeconds, 3) : null,
            Math.Round((windowEnd - fault.Start).TotalSeconds, 3),
            Math.Round(peak, 3),
            limit,
            over,
            storm,
            retries,
            Grew(before, after, RecoveryMetrics.TelemetryQueuedOffline),
            Grew(before, after, RecoveryMetrics.TelemetryResent),
            Grew(before, after, Counters.TelemetryDropped),
            HubGrew(before, after, RecoveryMetrics.HubLost),
            HubGrew(before, after, RecoveryMetrics.HubDuplicated),
            HubGrew(before, after, RecoveryMetrics.HubOutOfOrder),
            never.Count,
            [.. never.Take(IdsShown)]);
    }

    /// <summary>
    /// The index of the fault a loss is credited to, or -1: among the faults whose window covers the loss and that may have hit
    /// the device, the best by (kind explains the loss's reason, named the device, started latest, fired later). A fault that
    /// closes or silences a connection once takes a device down once: a later loss of that device is not its doing.
    /// </summary>
    private static int Culprit(Outage outage, IReadOnlyList<FaultWindow?> faults, int[] order, TimeSpan attribution,
        HashSet<(int Fault, string DeviceId)> claimed)
    {
        var best = -1;
        var bestScore = -1;
        foreach (var index in order) // by start, then firing order: a later candidate with the same score is the more recent
        {
            var f = faults[index]!;
            if (f.Start.ToUnixTimeMilliseconds() > outage.LostAtMs)
                break;
            if (outage.LostAtMs > (f.End + attribution).ToUnixTimeMilliseconds() || !f.MayHit(outage.DeviceId)
                || claimed.Contains((index, outage.DeviceId)))
                continue;
            var score = (Explains(f.Kind, outage.Reason) ? 2 : 0) + (f.Devices is null ? 0 : 1);
            if (score >= bestScore)
            {
                best = index;
                bestScore = score;
            }
        }

        return best;
    }

    /// <summary>Faults that end a device's connection at most once (a later loss of the device has another cause).</summary>
    private static bool OneLossPerDevice(string? kind) => kind is "drop" or "hub-restart" or "expire-tokens" or "blackhole";

    /// <summary>True when a fault of <paramref name="kind"/> shows up on a device as a loss for <paramref name="reason"/>.</summary>
    private static bool Explains(string? kind, string? reason) => (kind, reason) switch
    {
        ("drop" or "hub-restart" or "expire-tokens", "network") => true,        // the hub (or proxy) closed the connection
        ("blackhole" or "latency" or "ack-delay", "timeout") => true,          // noticed by a keep-alive or PUBACK wait
        _ => false,
    };

    /// <summary>Pairs each loss with what ended it: the next reconnect, a stop, or the end of the run.</summary>
    private static List<Outage> Outages(IReadOnlyList<RecoveryEvent> events, long stoppingAtMs)
    {
        var outages = new List<Outage>();
        var open = new Dictionary<string, (long At, string? Reason)>(StringComparer.Ordinal);
        // A stable sort by time: per device the log is in recording order already; events of another node (a device moved
        // after a node loss) fall into place by their time.
        foreach (var e in events.OrderBy(static e => e.AtUnixMs))
        {
            switch (e.Kind)
            {
                case RecoveryEventKind.Lost:
                    open.TryAdd(e.DeviceId, (e.AtUnixMs, e.Reason));
                    break;
                case RecoveryEventKind.Reconnected when open.Remove(e.DeviceId, out var lost):
                    outages.Add(new Outage(e.DeviceId, lost.At, e.AtUnixMs, Ending.Reconnected, lost.Reason));
                    break;
                case RecoveryEventKind.Stopped when open.Remove(e.DeviceId, out var lost):
                    var planned = e.Reason == "stopped" && e.AtUnixMs < stoppingAtMs;
                    outages.Add(new Outage(e.DeviceId, lost.At, e.AtUnixMs, planned ? Ending.LeftFleet : Ending.NeverBack, lost.Reason));
                    break;
            }
        }

        foreach (var (id, lost) in open)
            outages.Add(new Outage(id, lost.At, long.MaxValue, Ending.NeverBack, lost.Reason));
        return outages;
    }

    private static double? Percentile(HistogramBase h, double p) => h.TotalCount == 0 ? null : h.GetValueAtPercentile(p) / 1000.0;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static MetricsSample? SampleAtOrBefore(IReadOnlyList<MetricsSample> series, DateTimeOffset t)
    {
        MetricsSample? found = null;
        foreach (var s in series)
        {
            if (s.At > t)
                break;
            found = s;
        }

        return found;
    }

    private static MetricsSample? SampleAtOrAfter(IReadOnlyList<MetricsSample> series, DateTimeOffset t)
    {
        foreach (var s in series)
        {
            if (s.At >= t)
                return s;
        }

        return series.Count > 0 ? series[^1] : null;
    }

    private static long Counter(MetricsSample s, string name) => s.Counters.TryGetValue(name, out var v) ? v : 0;

    private static long Grew(MetricsSample? before, MetricsSample? after, string name) =>
        after is null ? 0 : Math.Max(0, Counter(after, name) - (before is null ? 0 : Counter(before, name)));

    /// <summary>Net growth of a hub total over the window; null when the hub does not report it.</summary>
    private static long? HubGrew(MetricsSample? before, MetricsSample? after, string name)
    {
        if (after is null || !after.Gauges.TryGetValue(name, out var end))
            return null;
        var start = before is not null && before.Gauges.TryGetValue(name, out var b) ? b : 0;
        return Math.Max(0, end - start);
    }
}
