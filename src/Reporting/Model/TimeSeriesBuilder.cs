using FleetSim.Metrics;

namespace FleetSim.Reporting;

/// <summary>Turns the raw 1-second metric samples into the report's time series (rates, errors by reason).</summary>
internal static class TimeSeriesBuilder
{
    public static TimePoint[] Build(MetricsSnapshot metrics, DateTimeOffset runStart)
    {
        var points = new TimePoint[metrics.Series.Count];
        var previousAt = metrics.StartedAt;
        var previousSent = 0L;
        var previousAcked = 0L;
        var previousLost = 0L;
        for (var i = 0; i < points.Length; i++)
        {
            var sample = metrics.Series[i];
            var dt = (sample.At - previousAt).TotalSeconds;
            if (i == 0)
            {
                // Samples are taken once per second, so the first interval is at most one second even when the
                // metrics were created long before sampling began (e.g. while devices were being registered).
                dt = Math.Min(dt, 1.0);
            }

            var sent = Value(sample.Counters, Counters.TelemetrySent);
            var acked = Value(sample.Counters, Counters.TelemetryAcked);
            var lost = Value(sample.Counters, Counters.ConnectionLost);
            double? asked = sample.Gauges.TryGetValue(Gauges.TelemetryAskedRate, out var rate) ? rate : null;

            var operations = new SortedDictionary<string, OperationPoint>(StringComparer.Ordinal);
            var errors = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var (name, op) in sample.Operations)
            {
                operations[name] = new OperationPoint(op.Ok, op.Failed, op.P50Ms, op.P95Ms, op.P99Ms);
                foreach (var (reason, count) in op.FailuresByReason)
                {
                    errors[name + "/" + reason] = count;
                }
            }

            var reconnects = sample.Operations.TryGetValue(Operations.Reconnect, out var reconnect) ? reconnect.Ok : 0;
            points[i] = new TimePoint(
                Math.Round((sample.At - runStart).TotalSeconds, 3),
                Value(sample.Gauges, Gauges.DevicesConnected),
                PerSecond(sent - previousSent, dt),
                PerSecond(acked - previousAcked, dt),
                asked,
                reconnects,
                lost - previousLost,
                operations,
                errors);
            previousAt = sample.At;
            previousSent = sent;
            previousAcked = acked;
            previousLost = lost;
        }

        return points;
    }

    private static long Value(IReadOnlyDictionary<string, long> values, string name) =>
        values.TryGetValue(name, out var value) ? value : 0;

    /// <summary>A count over an interval as a rate; an interval under 1 ms is treated as one second.</summary>
    private static double PerSecond(long count, double seconds) =>
        seconds >= 0.001 ? Math.Round(count / seconds, 3) : count;
}
