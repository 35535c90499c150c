using System.CommandLine;
using System.Globalization;
using FleetSim.Protocol;
using FleetSim.Metrics;
using FleetSim.Reporting;
using FleetSim.Simulator.Live;
using FleetSim.Simulator.Run;
using FleetSim.Simulator.Telemetry;

namespace FleetSim.Simulator.Commands;

/// <summary><c>fleetsim run SCENARIO.yaml</c>: validate, run against the embedded or a named hub, write the reports.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var scenarioArg = new Argument<FileInfo>("scenario") { Description = "The scenario file (YAML)" };
        var outOption = new Option<DirectoryInfo?>("--out") { Description = "Directory for the reports (default reports/<scenario>-<UTC time>)" };
        var hubOption = new Option<string?>("--hub") { Description = "Service connection string of an existing IoT Hub (default: the embedded emulator)" };
        var hubStateOption = new Option<FileInfo?>("--hub-state") { Description = "State file of a 'fleetsim hub' running elsewhere (its connection string, ports and CA): run against it" };
        var setOption = new Option<string[]>("--set") { Description = "Override a scenario value: --set path=value (repeatable), e.g. --set devices.count=10", AllowMultipleArgumentsPerToken = false };
        var durationOption = new Option<string?>("--duration") { Description = "Override the scenario's duration, e.g. 10s or 2m" };
        var scaleOption = new Option<double?>("--scale") { Description = "Multiply device counts and rates by this factor (e.g. 0.1 to run small)" };
        var quietOption = new Option<bool>("--quiet") { Description = "No live progress, only the final summary" };
        var otlpOption = new Option<string?>("--otlp-endpoint") { Description = "Export live metrics over OTLP/HTTP to this collector URL, e.g. http://localhost:4318/v1/metrics" };
        var prometheusOption = new Option<int?>("--prometheus-port") { Description = "Serve live metrics for Prometheus at http://127.0.0.1:PORT/metrics" };
        var nodesOption = new Option<string?>("--nodes") { Description = "Run the devices on N worker processes of this machine (fleetsim node), or auto: one per 15,000 devices" };
        var coordinatorOptions = new Cluster.CoordinatorOptions();
        var tierOption = new Option<string?>("--tier") { Description = "The hub's IoT Hub tier (F1, B1-B3, S1-S3): registration is paced to it and the run checked against it; for the embedded hub, its throttles" };
        var unitsOption = new Option<int?>("--units") { Description = "Units of --tier (default 1)" };
        var noPaceOption = new Option<bool>("--no-pace") { Description = "With a tier known, do not pace connects and telemetry under its limits: warn only and let the hub throttle" };
        var keepOption = new Option<bool>("--keep-devices") { Description = "Leave the devices this run creates on the hub (default: deleted at the end)" };
        var dryRunOption = new Option<bool>("--dry-run") { Description = "Validate, resolve the hub and print what the run would create and ask of the tier, without any request to the hub" };

        var command = new Command("run", "Run a scenario and write the reports")
        {
            scenarioArg, outOption, hubOption, hubStateOption, setOption, durationOption, scaleOption, quietOption, otlpOption, prometheusOption, nodesOption,
            tierOption, unitsOption, keepOption, dryRunOption, noPaceOption,
        };
        foreach (var option in coordinatorOptions.All)
            command.Options.Add(option);
        command.SetAction(async (parse, _) =>
        {
            var path = parse.GetValue(scenarioArg)!.FullName;
            var overrides = new List<string>(parse.GetValue(setOption) ?? []);
            if (parse.GetValue(durationOption) is { } duration)
                overrides.Add("duration=" + duration);

            var loaded = ScenarioInput.Load(path, overrides, parse.GetValue(scaleOption));
            if (loaded.Scenario is null)
                return ScenarioInput.PrintErrors(loaded);

            Scenarios.Model.ConnectionStringHub? hub = null;
            if (parse.GetValue(hubOption) is { } hubText)
            {
                if (parse.GetValue(hubStateOption) is not null)
                {
                    Console.Error.WriteLine("error: --hub and --hub-state cannot be used together (the state file names the hub)");
                    return ExitCodes.BadInput;
                }

                hubText = ScenarioInput.Interpolate(hubText);
                if (!ServiceConnectionString.TryParse(hubText, out var connection, out var error))
                {
                    Console.Error.WriteLine($"error: --hub: {error}");
                    return ExitCodes.BadInput;
                }

                hub = new Scenarios.Model.ConnectionStringHub(connection);
            }
            else if (parse.GetValue(hubStateOption) is { } stateFile)
            {
                if (HubStateFile.TryRead(stateFile.FullName, out hub, out var error) is false)
                {
                    Console.Error.WriteLine($"error: --hub-state: {error}");
                    return ExitCodes.BadInput;
                }
            }

            Uri? otlp = null;
            if (parse.GetValue(otlpOption) is { } otlpText
                && (!Uri.TryCreate(otlpText, UriKind.Absolute, out otlp) || otlp.Scheme is not ("http" or "https")))
            {
                Console.Error.WriteLine($"error: --otlp-endpoint: '{otlpText}' is not an http(s) URL (for example http://localhost:4318/v1/metrics)");
                return ExitCodes.BadInput;
            }

            var prometheus = parse.GetValue(prometheusOption);
            if (prometheus is < 1 or > 65535)
            {
                Console.Error.WriteLine($"error: --prometheus-port: {prometheus} is not a port number (1-65535)");
                return ExitCodes.BadInput;
            }

            if (!Cluster.ClusterArguments.TryParseNodes(parse.GetValue(nodesOption), loaded.Scenario.TotalDevices, out var nodes, out var nodesError))
            {
                Console.Error.WriteLine("error: " + nodesError);
                return ExitCodes.BadInput;
            }

            var embeddedHub = hub is null && loaded.Scenario.Hub is Scenarios.Model.EmbeddedHub;
            if (!coordinatorOptions.TryRead(parse, nodes, embeddedHub, out var clusterSetup, out var clusterError))
            {
                Console.Error.WriteLine("error: " + clusterError);
                return ExitCodes.BadInput;
            }

            if (Chaos.ChaosRun.Check(loaded.Scenario, path, existingHub: !embeddedHub, cluster: nodes > 0 || clusterSetup is not null) is { } chaosError)
            {
                Console.Error.WriteLine("error: " + chaosError);
                return ExitCodes.BadInput;
            }

            Protocol.Tiers.HubTier? tier = null;
            if (parse.GetValue(tierOption) is { } tierName)
            {
                if (!Protocol.Tiers.HubTier.TryCreate(tierName, parse.GetValue(unitsOption) ?? 1, out tier, out var tierError))
                {
                    Console.Error.WriteLine("error: --tier: " + tierError);
                    return ExitCodes.BadInput;
                }
            }
            else if (parse.GetValue(unitsOption) is not null)
            {
                Console.Error.WriteLine("error: --units needs --tier (e.g. --tier S1 --units 2)");
                return ExitCodes.BadInput;
            }

            var outDir = parse.GetValue(outOption)?.FullName ?? DefaultOutDir(loaded.Scenario.Name);
            using var shutdown = new Shutdown();
            var request = new RunRequest(loaded.Scenario, path, loaded.RedactedText, outDir, hub, LiveView.Choose(parse.GetValue(quietOption)),
                new MetricsExportOptions(otlp, prometheus))
            {
                Nodes = nodes,
                ClusterSetup = clusterSetup,
                Overrides = overrides,
                Scale = parse.GetValue(scaleOption),
                Tier = tier,
                KeepDevices = parse.GetValue(keepOption),
                Pace = !parse.GetValue(noPaceOption),
                CommandLine = CommandLineText(System.Environment.GetCommandLineArgs()),
            };
            if (parse.GetValue(dryRunOption))
                return DryRun.Print(request, Console.Out);
            var result = await RunSession.ExecuteAsync(request, Console.Out, shutdown.Token);
            PrintSummary(result, RunSession.DebugLogPath(request));
            return result.ExitCode;
        });
        return command;
    }

    /// <summary>"fleetsim run ..." with each argument as given, quoted when it holds spaces or quotes; redacted, it goes into the report.</summary>
    public static string CommandLineText(IReadOnlyList<string> args) =>
        string.Join(' ', args.Skip(1).Prepend("fleetsim").Select(static a =>
            a.Length > 0 && !a.Any(static c => char.IsWhiteSpace(c) || c is '\'' or '"' or ';' or '&' or '|' or '$') ? a : "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));

    private static string DefaultOutDir(string scenarioName)
    {
        var safe = string.Concat(scenarioName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-'));
        return Path.GetFullPath(Path.Combine("reports", $"{safe}-{DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}"));
    }

    private static void PrintSummary(RunResult result, string? debugLog)
    {
        var r = result.Report;
        var o = Console.Out;
        if (r is not null)
        {
            o.WriteLine();
            o.WriteLine($"{r.Scenario.Name}: {r.Run.Verdict} ({r.Run.ExitReason}) in {r.Run.DurationSeconds:0.0} s");
            o.WriteLine($"  devices    target {r.Devices.Target:N0}, connected peak {r.Devices.ConnectedPeak:N0}");
            var t = r.Telemetry;
            o.WriteLine($"  telemetry  sent {t.Sent:N0}, acked {t.Acked:N0}, ingested {Show(t.Ingested)}, lost {Show(t.Lost)}, duplicated {Show(t.Duplicated)}, dropped {t.Dropped:N0}");
            if (r.Generator is { } g)
                o.WriteLine($"  generator  send lag p50 {g.SendLag.P50:0.00} ms, p99 {g.SendLag.P99:0.00} ms, max {g.SendLag.Max:0.0} ms"
                    + (g.Limited ? $"; GENERATOR-LIMITED: {g.Skipped:N0} messages too late to make (this machine could not keep the asked rate)" : ""));
            foreach (var (name, op) in r.Latency)
            {
                if (op.Count + op.Failed == 0)
                    continue;
                o.WriteLine($"  {name,-16} ok {op.Count:N0} failed {op.Failed:N0}  p50 {op.P50:0.0} ms  p95 {op.P95:0.0} ms  p99 {op.P99:0.0} ms  max {op.Max:0.0} ms");
            }

            foreach (var th in r.Thresholds)
                o.WriteLine($"  threshold  {(th.Passed ? "ok  " : th.Evaluated ? "FAIL" : "SKIP")} {th.Name}: {th.Expression} (actual {th.Actual?.ToString("0.###", CultureInfo.InvariantCulture) ?? "n/a"})"
                    + (th.Evaluated ? "" : $": not evaluated, {th.Note}"));
        }

        if (result.Files is not null)
            o.WriteLine($"report: {result.Files.Html}");
        if (debugLog is not null && File.Exists(debugLog))
            o.WriteLine($"debug log: {debugLog}");
    }

    private static string Show(long? value) => value?.ToString("N0", CultureInfo.InvariantCulture) ?? "n/a";
}
