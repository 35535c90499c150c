using HdrHistogram;
using HdrHistogram.Utilities;

namespace FleetSim.Metrics;

/// <summary>
/// What one process recorded, in the form that crosses to another process once a second: cumulative counters and
/// gauges, and per operation what happened since the previous interval (successes as an HdrHistogram in its compressed
/// encoding, failures by reason). <see cref="FleetMetrics.TakeInterval"/> produces it on a worker;
/// <see cref="FleetMetrics.Absorb"/> merges it exactly into the coordinator's metrics.
/// </summary>
public sealed record MetricsInterval(
    IReadOnlyDictionary<string, long> Counters,
    IReadOnlyDictionary<string, GaugeSnapshot> Gauges,
    IReadOnlyList<OperationInterval> Operations)
{
    /// <summary>Connection losses, reconnects and stops of the node's devices since the previous interval.</summary>
    public IReadOnlyList<RecoveryEvent> Recovery { get; init; } = [];

    /// <summary>Recovery events the node could not keep since the previous interval (its log was full).</summary>
    public long RecoveryDiscarded { get; init; }

    /// <summary>Twin checks of devices that stopped on the node since the previous interval.</summary>
    public IReadOnlyList<TwinCheck> Twin { get; init; } = [];
}

/// <summary>
/// One operation during one interval: <see cref="Histogram"/> holds every successful latency (microseconds) in
/// HdrHistogram's compressed encoding (empty when none); <see cref="Failures"/> the failures by reason in the interval.
/// </summary>
public sealed record OperationInterval(string Name, byte[] Histogram, IReadOnlyDictionary<string, long> Failures)
{
    /// <summary>Successes in the interval (the histogram's count; decodes it).</summary>
    public long CountOk() => Decode().TotalCount;

    /// <summary>The interval's latency histogram.</summary>
    public HistogramBase Decode() => HistogramWire.Decode(Histogram);

    public override string ToString() => $"OperationInterval {{ Name = {Name}, Bytes = {Histogram.Length}, Failures = {Failures.Count} }}";
}

/// <summary>HdrHistogram's compressed encoding (the V2 format every HdrHistogram port reads), in and out of byte arrays.</summary>
public static class HistogramWire
{
    public static byte[] Encode(HistogramBase histogram)
    {
        if (histogram.TotalCount == 0)
            return [];
        var buffer = ByteBuffer.Allocate(histogram.GetNeededByteBufferCapacity());
        var length = HistogramEncoding.EncodeIntoCompressedByteBuffer(histogram, buffer);
        var bytes = new byte[length];
        buffer.Position = 0;
        for (var i = 0; i < length; i++)
            bytes[i] = buffer.Get();
        return bytes;
    }

    /// <summary>Reads an encoded histogram; an empty array is an empty histogram of the recorders' shape.</summary>
    /// <exception cref="FormatException">The bytes are not a compressed HdrHistogram.</exception>
    public static HistogramBase Decode(byte[] bytes)
    {
        if (bytes.Length == 0)
            return OperationMetrics.NewHistogram();
        try
        {
            return HistogramEncoding.DecodeFromCompressedByteBuffer(ByteBuffer.Allocate(bytes), OperationMetrics.HighestTrackableMicros);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IndexOutOfRangeException or IOException)
        {
            throw new FormatException("not an HdrHistogram in its compressed encoding: " + e.Message, e);
        }
    }
}
