using System.Diagnostics;

namespace FleetSim.Bench;

/// <summary>
/// A small side-by-side timer: each candidate runs in alternating rounds after a warm-up, and the median of the rounds
/// is reported, so a noisy shared machine affects both sides alike and the ratio stays meaningful.
/// </summary>
public static class Measure
{
    public sealed record Result(string Name, double NanosPerOp, double AllocatedBytesPerOp);

    public static IReadOnlyList<Result> SideBySide(int rounds, long opsPerRound, params (string Name, Action<long> Run)[] candidates)
    {
        foreach (var (_, run) in candidates)
            run(Math.Max(1, opsPerRound / 10)); // warm-up: JIT, tiering, pools

        var samples = candidates.Select(_ => new List<double>()).ToArray();
        var allocations = candidates.Select(_ => new List<double>()).ToArray();
        for (var r = 0; r < rounds; r++)
        {
            for (var c = 0; c < candidates.Length; c++)
            {
                GC.Collect();
                var before = GC.GetTotalAllocatedBytes(precise: true);
                var sw = Stopwatch.StartNew();
                candidates[c].Run(opsPerRound);
                sw.Stop();
                allocations[c].Add((GC.GetTotalAllocatedBytes(precise: true) - before) / (double)opsPerRound);
                samples[c].Add(sw.Elapsed.TotalNanoseconds / opsPerRound);
            }
        }

        return candidates.Select((c, i) => new Result(c.Name, Median(samples[i]), Median(allocations[i]))).ToList();
    }

    public static void Print(string title, IReadOnlyList<Result> results)
    {
        Console.WriteLine($"## {title}");
        Console.WriteLine("| candidate | ns/op | bytes allocated/op | ratio to first |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var r in results)
            Console.WriteLine($"| {r.Name} | {r.NanosPerOp:0.0} | {r.AllocatedBytesPerOp:0.0} | {r.NanosPerOp / results[0].NanosPerOp:0.00} |");
        Console.WriteLine();
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
