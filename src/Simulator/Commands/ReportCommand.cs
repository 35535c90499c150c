using System.CommandLine;
using System.Globalization;
using FleetSim.Metrics;
using FleetSim.Reporting;

namespace FleetSim.Simulator.Commands;

/// <summary>
/// <c>fleetsim report RESULTS.json [--baseline OTHER.json]</c>: re-render a run's reports from its report.json, and with a
/// baseline add a comparison table with regressions flagged by relative limits. Exit 1 when a regression is flagged.
/// </summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var resultsArg = new Argument<FileInfo>("results") { Description = "A report.json written by fleetsim run" };
        var baselineOption = new Option<FileInfo?>("--baseline") { Description = "Another run's report.json to compare with" };
        var outOption = new Option<DirectoryInfo?>("--out") { Description = "Where to write the re-rendered reports (default: next to RESULTS.json)" };
        var latencyOption = new Option<double>("--max-latency-increase") { Description = "Flag p95/p99 latency that grew by more than this fraction", DefaultValueFactory = _ => ComparisonLimits.Default.LatencyIncrease };
        var throughputOption = new Option<double>("--max-throughput-decrease") { Description = "Flag throughput that fell by more than this fraction", DefaultValueFactory = _ => ComparisonLimits.Default.ThroughputDecrease };
        var errorOption = new Option<double>("--max-error-rate-increase") { Description = "Flag error rates that grew by more than this fraction", DefaultValueFactory = _ => ComparisonLimits.Default.ErrorRateIncrease };

        var command = new Command("report", "Re-render reports from report.json, optionally compared with a baseline run")
        {
            resultsArg, baselineOption, outOption, latencyOption, throughputOption, errorOption,
        };
        command.SetAction(parse =>
        {
            var results = parse.GetValue(resultsArg)!;
            RunReport current;
            RunReport? baseline = null;
            try
            {
                current = ReportJson.Read(results.FullName);
                if (parse.GetValue(baselineOption) is { } b)
                    baseline = ReportJson.Read(b.FullName);
            }
            catch (ReportFormatException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.BadInput;
            }

            var limits = ComparisonLimits.Default with
            {
                LatencyIncrease = parse.GetValue(latencyOption),
                ThroughputDecrease = parse.GetValue(throughputOption),
                ErrorRateIncrease = parse.GetValue(errorOption),
            };
            if (limits.Validate() is { } invalid)
            {
                Console.Error.WriteLine($"error: {invalid}");
                return ExitCodes.BadInput;
            }

            var comparison = baseline is null ? null : ReportComparison.Compare(current, baseline, limits);
            var outDir = parse.GetValue(outOption)?.FullName ?? results.DirectoryName ?? ".";
            var files = ReportWriter.WriteAll(current, outDir, comparison);
            if (comparison is not null)
            {
                foreach (var row in comparison.Regressions)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"REGRESSION {row.Metric}: {row.Baseline:0.###} -> {row.Current:0.###} ({(row.RelativeDelta is { } rel ? $"{rel:+0.0%;-0.0%}" : "new")}, limit {row.Limit:0.0%})"));
                }

                Console.WriteLine(comparison.HasRegressions
                    ? $"{comparison.Regressions.Count} regression(s) against {parse.GetValue(baselineOption)!.Name}"
                    : $"no regression against {parse.GetValue(baselineOption)!.Name}");
            }

            Console.WriteLine($"report: {files.Html}");
            return comparison is { HasRegressions: true } ? ExitCodes.ThresholdsFailed : ExitCodes.Ok;
        });
        return command;
    }
}
