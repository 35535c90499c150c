using Akka.Actor;
using Akka.Hosting;
using FleetSim.Protocol;
using FleetSim.Metrics;
using FleetSim.Reporting;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Running;
using FleetSim.Scenarios.Service;
using FleetSim.Simulator.Live;
using FleetSim.Simulator.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FleetSim.Simulator.Run;

/// <summary>
/// One run end to end: hub (embedded or external) -> registry -> Akka host with the fleet and the scenario runner
/// -> the load phases -> clean stop -> hub accounting -> thresholds -> reports. Whatever happens after the
/// metrics exist (a failure, Ctrl+C), the report is still written with what was measured.
/// </summary>
public static partial class RunSession
{
    public static async Task<RunResult> ExecuteAsync(RunRequest request, TextWriter output, CancellationToken cancel)
    {
        var scenario = request.Scenario;
        var metrics = new FleetMetrics();
        using var export = request.Export is { Enabled: true } exportOptions ? new MetricsExport(metrics, scenario.Name, exportOptions) : null;
        var start = DateTimeOffset.UtcNow;
        var outcome = "completed";
        var exitCode = ExitCodes.Ok;
        var hubKind = request.Hub is null && scenario.Hub is EmbeddedHub ? HubKinds.Embedded : HubKinds.External;
        var pacing = RunDevices.Pacing(request);
        ScenarioRunner.Finished? finished = null;
        DateTimeOffset? scenarioStart = null; // the scenario's clock (fault at:, phases) starts here, after registration
        IngestTotals? ingest = null;
        var warnings = new List<string>();
        FaultSchedule? faults = null;
        IReadOnlyList<Hub.PartitionExit> partitionExits = [];
        if (request.Hub is not null && scenario.Hub is EmbeddedHub { Options: var settings }
            && (settings.Quotas != HubQuotas.Unlimited || settings.Faults.Count > 0 || settings.SasExpiryGrace != TimeSpan.Zero || settings.Tier is not null || settings.Partitions is not null))
        {
            const string ignored = "the scenario's hub.embedded settings (quotas, tier, faults, sasExpiryGrace, partitions) were not applied: the run targeted an existing hub named on the command line";
            warnings.Add(ignored);
            output.WriteLine("warning: " + ignored);
        }

        await using var cluster = request.Nodes > 0 || request.ClusterSetup is not null ? new Cluster.ClusterFleet(request.Nodes, request.ClusterSetup) : null;
        try
        {
            await using var hub = await ConnectHubAsync(request, cancel);
            hubKind = hub.Kind;
            using var service = new HubServiceClient(hub.Connection, hub.Rest);
            var ledger = new RegistrationLedger(request.RunId);
            try
            {
                await RunFleetOnHubAsync();
            }
            finally
            {
                partitionExits = hub.Partitioned?.PartitionExits ?? [];
                // Also after a failure or Ctrl+C: the devices this run created leave with it (the ledger knows them).
                await RunDevices.CleanupAsync(request, hub, service, ledger, metrics, warnings, output);
            }

            async Task RunFleetOnHubAsync()
            {
                if (RunDevices.EffectiveTier(request) is { } tier)
                {
                    foreach (var warning in TierCheck.Evaluate(scenario, tier, registersAll: hub.Kind == HubKinds.Embedded, pacing).Warnings)
                    {
                        warnings.Add(warning);
                        output.WriteLine("warning: " + warning);
                    }
                }

                // Pacing changes what the run asks of the hub: the console and the report say how.
                foreach (var line in pacing.Describe())
                {
                    warnings.Add(line);
                    output.WriteLine(line);
                }

                if (hub.Partitioned is { } partitioned)
                {
                    partitioned.PartitionExited += exit => output.WriteLine("warning: " + PartitionExitWarning(exit, start));
                    foreach (var exit in partitioned.PartitionExits) // died between listening and here
                        output.WriteLine("warning: " + PartitionExitWarning(exit, start));
                }

                if (hub.Partitions.Count > 0)
                    output.WriteLine($"hub in {hub.Partitions.Count} partitions: devices connect to {string.Join(", ", hub.Partitions.Select(static p => $"{p.MqttHost}:{p.MqttPort}"))}");
                var keys = await RunDevices.RegisterAsync(request, hub, service, ledger, metrics, output, cancel);

                faults = scenario.Hub is EmbeddedHub { Options.Faults.Count: > 0 } embedded && hub.Kind == HubKinds.Embedded
                    ? new FaultSchedule([.. embedded.Options.Faults.Select(pacing.Shift)], hub.Emulator is { } emulator ? new EmulatorFaults(emulator.Faults) : new RestEmulatorFaults(service), scenario.GroupDeviceIds)
                    : null;
                // hub.chaos: the devices reach an existing hub through the chaos proxy, which applies those faults.
                await using var chaos = scenario.Hub.Chaos.Count > 0 && hub.Kind == HubKinds.External ? Chaos.ChaosRun.Start(hub, scenario) : null;
                if (chaos is not null)
                {
                    faults = new FaultSchedule([.. scenario.Hub.Chaos.Select(pacing.Shift)], new Chaos.ChaosFaults(chaos), scenario.GroupDeviceIds);
                    output.WriteLine($"chaos proxy on {chaos.EndPoint.Host}:{chaos.EndPoint.Port}: {scenario.Hub.Chaos.Count} fault(s) between the devices and {hub.HostName}");
                }

                finished = await RunFleetAsync(request, hub, service, keys, metrics, faults, pacing, cancel, output, cluster, start, at => scenarioStart = at, chaos?.EndPoint);
                outcome = finished.Outcome;
                if (!finished.Completed)
                    exitCode = finished.Breach is null ? ExitCodes.RunFailed : ExitCodes.ThresholdsFailed;

                ingest = await ReadIngestAsync(service, hub.Kind, request.RunId, metrics, warnings);
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            outcome = "cancelled";
            exitCode = ExitCodes.RunFailed;
        }
        catch (Exception e) when (e is HubServiceException or HttpRequestException or IOException or System.Net.Sockets.SocketException or InvalidOperationException or TimeoutException)
        {
            outcome = "failed: " + Redaction.Redact(e.Message);
            exitCode = ExitCodes.RunFailed;
        }

        warnings.AddRange(partitionExits.Select(exit => PartitionExitWarning(exit, start)));
        // Report whatever was measured, whatever happened above (faults fired before a failure included).
        var injected = faults is null ? [] : await faults.DescribeAsync();
        var snapshot = metrics.Snapshot();
        warnings.AddRange(GeneratorWarnings(snapshot));
        if (snapshot.Counters.GetValueOrDefault(Counters.TelemetryDropped) is > 0 and var dropped)
            warnings.Add($"devices dropped {dropped} telemetry messages (offline queue full, or disconnected with whenDisconnected: drop): they never reached the hub and are not counted in 'lost'; a 'dropped == 0' threshold catches them");
        RecoverySummary? recovery = null;
        if (faults is not null)
        {
            var analysis = AnalyzeRecovery(scenario, request, faults.Windows(), metrics, snapshot, finished?.StoppingAt ?? DateTimeOffset.UtcNow);
            injected = [.. injected.Select((f, i) => f with { Recovery = analysis.PerFault[i] })];
            recovery = analysis.Summary;
            if (recovery.EventsDiscarded > 0)
                warnings.Add($"recovery: {recovery.EventsDiscarded} connection events were not kept (the log holds {metrics.Recovery.Capacity:N0}); recovery numbers miss the devices they belonged to");
        }

        var convergence = ConvergenceBuilder.Build(metrics.Twin.Latest());
        var thresholds = ThresholdEvaluator.Evaluate(scenario.Thresholds.Rules, snapshot, ingest, recovery, convergence);
        var thresholdsFailed = thresholds.Any(static t => t.Failed); // one not evaluated (too few samples) fails nothing
        if (exitCode == ExitCodes.Ok && thresholdsFailed)
            exitCode = ExitCodes.ThresholdsFailed;

        var verdict = exitCode switch
        {
            ExitCodes.Ok => Verdicts.Passed,
            ExitCodes.ThresholdsFailed => Verdicts.Failed,
            _ => Verdicts.Error,
        };
        var report = ReportBuilder.Build(snapshot, new ReportInputs
        {
            Scenario = new ScenarioSection(scenario.Name, request.ScenarioPath, request.ScenarioText) { Description = scenario.Description },
            Run = new RunSection(start, DateTimeOffset.UtcNow, hubKind, verdict, outcome)
            {
                Id = request.RunId,
                CommandLine = request.CommandLine,
                EffectiveScenario = EffectiveScenario.Describe(scenario),
                // The runner's own start when it reported one: the Start message may reach it late on a loaded machine.
                ScenarioStartSeconds = (finished?.StartedAt ?? scenarioStart) is { } s ? Math.Round(Math.Max(0, (s - start).TotalSeconds), 3) : null,
            },
            DeviceTarget = scenario.TotalDevices,
            GroupTargets = scenario.DeviceGroups.Select(g => new KeyValuePair<string, long>(g.Name, g.Count)).ToList(),
            Ingest = ingest is null ? null : new IngestAccounting(ingest.Ingested, ingest.Lost, ingest.Duplicated, ingest.OutOfOrder),
            Thresholds = thresholds.Select(static t => new ThresholdResult(t.Rule.Operation, t.Rule.Text, t.Actual, t.Passed) { Evaluated = t.Evaluated, Note = t.Note }).ToList(),
            Warnings = warnings,
            Faults = injected,
            Recovery = recovery,
            Convergence = convergence,
            ClusterEvents = cluster?.Events,
        });
        var files = ReportWriter.WriteAll(report, request.OutDir);
        return new RunResult(exitCode, report, files, outcome);
    }

    private static async Task<ScenarioRunner.Finished> RunFleetAsync(RunRequest request, HubConnection hub, HubServiceClient serviceClient,
        GroupCredentials[] keys, FleetMetrics metrics, FaultSchedule? faults, Scenarios.Load.LoadPacing pacing, CancellationToken cancel, TextWriter output,
        Cluster.ClusterFleet? cluster, DateTimeOffset start, Action<DateTimeOffset> scenarioStarted, System.Net.DnsEndPoint? relay = null)
    {
        var scenario = request.Scenario;
        var duration = pacing.Duration;
        await using var ingestPoll = hub.Partitioned is not null ? new Hub.IngestPoll(serviceClient, request.RunId) : null;
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        // The run handles Ctrl+C and SIGTERM itself (stop the devices, write the report); the host must not
        // shut the actor system down underneath it, which its default console lifetime would do.
        builder.Services.AddSingleton<IHostLifetime, RunLifetime>();
        builder.Services.AddAkka("fleetsim", akka =>
        {
            var debugLog = DebugLogPath(request);
            akka.ConfigureLoggers(loggers =>
            {
                loggers.LogLevel = debugLog is null ? Akka.Event.LogLevel.WarningLevel : Akka.Event.LogLevel.DebugLevel;
                if (debugLog is not null || cluster is not null)
                {
                    // Only the listed devices log at debug level (DeviceOptions.DebugDeviceIds); their lines go to a file, not over the live view.
                    // A cluster run uses the same logger for its one-line warnings (a lost node's remoting errors come without stack traces).
                    loggers.ClearLoggers();
                    loggers.AddLogger<Logging.DebugFileLogger>();
                }
            });
            if (debugLog is not null)
                akka.AddHocon($"{Logging.DebugFileLogger.PathSetting} = {System.Text.Json.JsonSerializer.Serialize(debugLog)}", HoconAddMode.Prepend);
            // Signals belong to the run, which stops the devices cleanly and writes the report before the system stops.
            akka.AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend);
            cluster?.Configure(akka); // devices on worker processes: this process joins as the coordinator
            akka.WithActors((system, registry) =>
            {
                var endpoint = new DeviceEndpoint(hub.HostName, hub.MqttHost, hub.MqttPort, hub.HttpsPort, hub.TrustedCa) { Partitions = hub.Partitions, Relay = relay };
                var plan = FleetPlanBuilder.Build(scenario, endpoint, keys, runId: request.RunId, pacing: pacing);
                Scenarios.Load.IFleetDriver driver = cluster is null
                    ? new SupervisorFleetDriver(system.ActorOf(DeviceActors.Fleet.FleetSupervisor.Props(metrics), "fleet"), plan)
                    : cluster.CreateDriver(system, registry, request, plan, endpoint, serviceClient, metrics, start);
                var service = scenario.Service.Count > 0 ? new ServiceLoad(scenario, new HubServiceActions(serviceClient), metrics,
                    connected: plan.Groups.Select(g => g.Connected).ToList()) : null;
                Func<IngestTotals?>? ingest = hub.Emulator is { } emulator
                    ? () => emulator.Stats(request.RunId) is var s ? new IngestTotals(s.Ingested, s.Lost, s.Duplicated, s.OutOfOrder) : null
                    : ingestPoll is null ? null : () => ingestPoll.Latest;
                var runner = system.ActorOf(ScenarioRunner.Props(scenario, driver, metrics, ingest, service, faults, pacing), "runner");
                registry.Register<ScenarioRunner>(runner);
            });
        });

        using var host = builder.Build();
        await host.StartAsync(CancellationToken.None);
        try
        {
            var registry = host.Services.GetRequiredService<ActorRegistry>();
            var runner = await registry.GetAsync<ScenarioRunner>(CancellationToken.None);
            if (cluster is not null)
            {
                Cluster.ClusterFleet.AbortRunWhenAllWorkersLost(host.Services.GetRequiredService<ActorSystem>(), runner);
                await cluster.StartWorkersAsync(host.Services.GetRequiredService<ActorSystem>(), output, cancel);
            }
            using var stopLive = new CancellationTokenSource();
            var live = new LiveView(metrics, scenario.Name, duration, scenario.TotalDevices, request.Live).RunAsync(stopLive.Token);
            await using var abort = cancel.Register(() => runner.Tell(new ScenarioRunner.Abort("cancelled (Ctrl+C or SIGTERM)")));
            var limit = duration + TimeSpan.FromMinutes(2) + ScenarioRunner.StopTimeout;
            var system = host.Services.GetRequiredService<ActorSystem>();
            scenarioStarted(system.Scheduler.Now); // the runner starts its clock on this Start, on the same scheduler
            var ask = runner.Ask<ScenarioRunner.Finished>(new ScenarioRunner.Start(), limit, CancellationToken.None);
            if (await Task.WhenAny(ask, system.WhenTerminated) != ask)
                throw new InvalidOperationException("the actor system stopped before the run finished");
            var finished = await ask;
            await stopLive.CancelAsync();
            await live;
            if (cluster is not null)
                await cluster.CollectEventsAsync();
            return finished;
        }
        finally
        {
            cluster?.RunEnded();
            await host.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Where the debug log goes when a group names debugDevices (next to the report), else null.</summary>
    public static string? DebugLogPath(RunRequest request) =>
        request.Scenario.DeviceGroups.Any(g => g.DebugDevices.Count > 0) ? Path.Combine(request.OutDir, Logging.DebugFileLogger.FileName) : null;
}

/// <summary>A host lifetime that leaves signals to the run (see <see cref="Commands.Shutdown"/>).</summary>
internal sealed class RunLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
