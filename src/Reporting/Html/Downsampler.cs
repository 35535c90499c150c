using FleetSim.Metrics;

namespace FleetSim.Reporting;

/// <summary>How a bucket of points becomes one point when a series is too long to draw.</summary>
public enum Downsampling
{
    /// <summary>Average: keeps the area under rates and counts.</summary>
    Mean,

    /// <summary>Highest value: keeps latency spikes visible.</summary>
    Max,
}

/// <summary>Shrinks long time series to at most a given number of points, so report.html stays small.</summary>
public static class Downsampler
{
    public const int MaxPoints = 2000;

    /// <summary>
    /// Returns the series unchanged when it has at most <paramref name="maxPoints"/> points; otherwise splits it
    /// into that many consecutive buckets, each drawn at its first x with the bucket's mean or max y
    /// (NaN values, i.e. gaps, are skipped; an all-NaN bucket stays a gap).
    /// </summary>
    public static (double[] X, double[] Y) Apply(double[] x, double[] y, Downsampling mode, int maxPoints = MaxPoints)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("x and y must have the same length.", nameof(y));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxPoints, 1);
        if (x.Length <= maxPoints)
        {
            return (x, y);
        }

        var outX = new double[maxPoints];
        var outY = new double[maxPoints];
        for (var b = 0; b < maxPoints; b++)
        {
            var from = (int)((long)b * x.Length / maxPoints);
            var to = (int)((long)(b + 1) * x.Length / maxPoints);
            outX[b] = x[from];
            outY[b] = Aggregate(y, from, to, mode);
        }

        return (outX, outY);
    }

    private static double Aggregate(double[] y, int from, int to, Downsampling mode)
    {
        var sum = 0.0;
        var max = double.NegativeInfinity;
        var n = 0;
        for (var i = from; i < to; i++)
        {
            var v = y[i];
            if (double.IsNaN(v))
            {
                continue;
            }

            sum += v;
            max = Math.Max(max, v);
            n++;
        }

        if (n == 0)
        {
            return double.NaN;
        }

        return mode == Downsampling.Max ? max : sum / n;
    }
}
