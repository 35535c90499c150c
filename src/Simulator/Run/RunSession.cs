using Akka.Actor;
using Akka.Hosting;
using FleetSim.Protocol;
using FleetSim.Reporting;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Running;
using FleetSim.Scenarios.Service;
using FleetSim.Simulator.Live;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FleetSim.Simulator.Run;

/// <summary>What <c>fleetsim run</c> was asked to do, after the scenario validated.</summary>
public sealed record RunRequest(Scenario Scenario, string ScenarioPath, string ScenarioText, string OutDir, ServiceConnectionString? Hub, LiveMode Live);

/// <summary>How a run ended, for the exit code and the summary.</summary>
public sealed record RunResult(int ExitCode, RunReport? Report, ReportFiles? Files, string Outcome);

/// <summary>
/// One run end to end: hub (embedded or external) -> registry -> Akka host with the fleet and the scenario runner
/// -> the load phases -> clean stop -> hub accounting -> thresholds -> reports. Whatever happens after the
/// metrics exist (a failure, Ctrl+C), the report is still written with what was measured.
/// </summary>
public static class RunSession
{
    public static async Task<RunResult> ExecuteAsync(RunRequest request, TextWriter output, CancellationToken cancel)
    {
        var scenario = request.Scenario;
        var metrics = new FleetMetrics();
        var start = DateTimeOffset.UtcNow;
        var outcome = "completed";
        var exitCode = ExitCodes.Ok;
        var hubKind = request.Hub is null && scenario.Hub is EmbeddedHub ? HubKinds.Embedded : HubKinds.External;
        ScenarioRunner.Finished? finished = null;
        IngestTotals? ingest = null;
        var warnings = new List<string>();

        try
        {
            await using var hub = await ConnectHubAsync(request, cancel);
            hubKind = hub.Kind;
            using var service = new HubServiceClient(hub.Connection, hub.Rest);

            output.WriteLine($"registering {scenario.TotalDevices:N0} devices with {hub.HostName} ...");
            var keys = await Registration.RegisterAsync(service, scenario, null, cancel);

            finished = await RunFleetAsync(request, hub, service, keys, metrics, cancel);
            outcome = finished.Outcome;
            if (!finished.Completed)
                exitCode = finished.Breach is null ? ExitCodes.RunFailed : ExitCodes.ThresholdsFailed;

            ingest = await ReadIngestAsync(service, hub.Kind, warnings);
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

        // Report whatever was measured, whatever happened above.
        var snapshot = metrics.Snapshot();
        var thresholds = ThresholdEvaluator.Evaluate(scenario.Thresholds.Rules, snapshot, ingest);
        var thresholdsFailed = thresholds.Any(t => !t.Passed);
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
            Scenario = new ScenarioSection(scenario.Name, request.ScenarioPath, request.ScenarioText),
            Run = new RunSection(start, DateTimeOffset.UtcNow, hubKind, verdict, outcome),
            DeviceTarget = scenario.TotalDevices,
            Ingest = ingest is null ? null : new IngestAccounting(ingest.Ingested, ingest.Lost, ingest.Duplicated, ingest.OutOfOrder),
            Thresholds = thresholds.Select(t => new ThresholdResult(t.Rule.Operation, t.Rule.Text, t.Actual, t.Passed)).ToList(),
            Warnings = warnings,
        });
        var files = ReportWriter.WriteAll(report, request.OutDir);
        return new RunResult(exitCode, report, files, outcome);
    }

    private static async Task<HubConnection> ConnectHubAsync(RunRequest request, CancellationToken ct)
    {
        if (request.Hub is not null)
            return HubConnection.External(request.Hub);
        return request.Scenario.Hub switch
        {
            ConnectionStringHub external => HubConnection.External(external.ConnectionString),
            EmbeddedHub embedded => await HubConnection.StartEmbeddedAsync(embedded.Options, ct),
            _ => throw new InvalidOperationException("unknown hub kind"),
        };
    }

    private static async Task<ScenarioRunner.Finished> RunFleetAsync(RunRequest request, HubConnection hub, HubServiceClient service,
        string[][] keys, FleetMetrics metrics, CancellationToken cancel)
    {
        var scenario = request.Scenario;
        var duration = new Scenarios.Load.LoadSchedule(scenario.Load, scenario.Duration, scenario.TotalDevices).Duration;
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddAkka("fleetsim", akka =>
        {
            akka.ConfigureLoggers(loggers => loggers.LogLevel = Akka.Event.LogLevel.WarningLevel);
            akka.WithActors((system, registry) =>
            {
                var fleet = system.ActorOf(DeviceActors.Fleet.FleetSupervisor.Props(metrics), "fleet");
                var plan = FleetPlanBuilder.Build(scenario, new DeviceEndpoint(hub.HostName, hub.MqttHost, hub.MqttPort, hub.HttpsPort, hub.TrustedCa), keys);
                var driver = new SupervisorFleetDriver(fleet, plan);
                var runner = system.ActorOf(ScenarioRunner.Props(scenario, driver, metrics), "runner");
                registry.Register<ScenarioRunner>(runner);
            });
        });

        using var host = builder.Build();
        await host.StartAsync(CancellationToken.None);
        try
        {
            var registry = host.Services.GetRequiredService<ActorRegistry>();
            var runner = await registry.GetAsync<ScenarioRunner>(CancellationToken.None);
            using var stopLive = new CancellationTokenSource();
            var live = new LiveView(metrics, scenario.Name, duration, scenario.TotalDevices, request.Live).RunAsync(stopLive.Token);
            await using var abort = cancel.Register(() => runner.Tell(new ScenarioRunner.Abort("cancelled (Ctrl+C)")));
            var limit = duration + TimeSpan.FromMinutes(2) + ScenarioRunner.StopTimeout;
            var finished = await runner.Ask<ScenarioRunner.Finished>(new ScenarioRunner.Start(), limit, CancellationToken.None);
            await stopLive.CancelAsync();
            await live;
            return finished;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    private static async Task<IngestTotals?> ReadIngestAsync(HubServiceClient service, string hubKind, List<string> warnings)
    {
        try
        {
            var stats = await service.GetJsonAsync("fleetsim/stats", CancellationToken.None);
            return new IngestTotals(
                stats["ingested"]?.GetValue<long>() ?? 0,
                stats["lost"]?.GetValue<long>() ?? 0,
                stats["duplicated"]?.GetValue<long>() ?? 0,
                stats["outOfOrder"]?.GetValue<long>() ?? 0);
        }
        catch (HubServiceException) when (hubKind == HubKinds.External)
        {
            warnings.Add("the hub does not report ingest accounting (a real IoT Hub cannot): lost and duplicated messages are not known");
            return null;
        }
    }
}
