using System.Globalization;
using FleetSim.Metrics;
using FleetSim.Protocol.Tiers;
using FleetSim.Scenarios.Load;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Running;
using FleetSim.Scenarios.Service;
using FleetSim.Simulator.Live;
using Spectre.Console;

namespace FleetSim.Simulator.Run;

/// <summary>
/// The run's device identities on the hub: registration paced to the tier with progress shown, and at the end the
/// deletion of exactly the devices this run created (unless --keep-devices).
/// </summary>
public static class RunDevices
{
    public const string CreatedCounter = "registry.created";
    public const string ReusedCounter = "registry.reused";
    public const string DeletedCounter = "registry.deleted";
    public const string ThrottledCounter = "registry.throttled";

    /// <summary>The tier in force: --tier on the command line, else the hub's (hub.tier, or hub.embedded.tier for the emulator).</summary>
    public static HubTier? EffectiveTier(RunRequest request) =>
        request.Tier ?? request.Hub?.Tier ?? request.Scenario.Hub switch
        {
            ConnectionStringHub external when request.Hub is null => external.Tier,
            EmbeddedHub embedded when request.Hub is null => embedded.Options.Tier,
            _ => null,
        };

    /// <summary>
    /// The limits the run's connects and telemetry are paced to: the tier's, and for the embedded hub its explicit
    /// hub.embedded.quotas where given (they are the emulator's limits then); null without a tier.
    /// </summary>
    public static PacingLimits? Limits(RunRequest request)
    {
        if (EffectiveTier(request) is not { } tier)
            return null;
        if (request.Hub is null && request.Scenario.Hub is EmbeddedHub { Options.Quotas: { } quotas } && (quotas.ConnectsPerSecond is not null || quotas.TelemetryPerSecond is not null))
            return new PacingLimits(quotas.ConnectsPerSecond ?? tier.ConnectsPerSecond, quotas.TelemetryPerSecond ?? tier.TelemetryPerSecond, $"tier {tier} with hub.embedded.quotas");
        return new PacingLimits(tier.ConnectsPerSecond, tier.TelemetryPerSecond, $"tier {tier}");
    }

    /// <summary>The run's load paced to <see cref="Limits"/>, unless --no-pace or hub.pace: false (then as the scenario asks).</summary>
    public static LoadPacing Pacing(RunRequest request) =>
        LoadPacing.Plan(request.Scenario, request.Pace && request.Scenario.Hub.Pace ? Limits(request) : null);

    public static async Task<GroupCredentials[]> RegisterAsync(RunRequest request, HubConnection hub, HubServiceClient service, RegistrationLedger ledger,
        FleetMetrics metrics, TextWriter output, CancellationToken cancel)
    {
        var scenario = request.Scenario;
        if (EffectiveTier(request) is { } tier)
            service.RegistryPacing = new RegistryPacer(tier.RegistryOperationsPerSecond * PacingLimits.Headroom);
        output.WriteLine($"registering {scenario.TotalDevices:N0} devices with {hub.HostName} (run id {ledger.RunId}: devices it creates are tagged fleetsim.run={ledger.RunId}) ...");
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var registering = Registration.RegisterAsync(service, scenario, hub.HostName, hub.Kind == Reporting.HubKinds.Embedded, ledger, cancel);
        try
        {
            await ShowProgressAsync(registering, ledger, request.Live, output);
            return await registering;
        }
        finally
        {
            metrics.Counter(CreatedCounter).Add(ledger.Created.Count);
            metrics.Counter(ReusedCounter).Add(ledger.Reused);
            metrics.Counter(ThrottledCounter).Add(service.ThrottledResponses);
            output.WriteLine($"registration: {ledger.Created.Count:N0} created, {ledger.Reused:N0} reused in {TierCheck.Show(System.Diagnostics.Stopwatch.GetElapsedTime(started))}"
                             + (service.ThrottledResponses > 0 ? $", {service.ThrottledResponses:N0} calls throttled (429) and retried" : ""));
        }
    }

    /// <summary>
    /// Deletes the devices this run created (bulk, 100 a call, paced like registration). The embedded hub goes away with
    /// the run, so only an existing hub is cleaned. Failures become a warning naming the cleanup command.
    /// </summary>
    public static async Task CleanupAsync(RunRequest request, HubConnection hub, HubServiceClient service, RegistrationLedger ledger,
        FleetMetrics metrics, List<string> warnings, TextWriter output)
    {
        if (hub.Kind == Reporting.HubKinds.Embedded || ledger.Created.Count == 0)
            return;
        var command = $"fleetsim cleanup --hub \"$HUB\" --run {ledger.RunId}";
        if (request.KeepDevices)
        {
            output.WriteLine($"kept the {ledger.Created.Count:N0} devices this run created (--keep-devices); remove them later with: {command}");
            return;
        }

        output.WriteLine($"deleting the {ledger.Created.Count:N0} devices this run created ...");
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        try
        {
            var deleted = await DeviceCleanup.DeleteAsync(service, [.. ledger.Created], limit.Token);
            metrics.Counter(DeletedCounter).Add(deleted);
        }
        catch (Exception e) when (e is HubServiceException or HttpRequestException or OperationCanceledException or IOException)
        {
            var text = $"the devices this run created were not all deleted ({FleetSim.Protocol.Redaction.Redact(e.Message)}); remove them with: {command}";
            warnings.Add(text);
            output.WriteLine("warning: " + text);
        }
    }

    /// <summary>A progress bar on a terminal, a line every 5 s in a log, nothing with --quiet; ends when registration does.</summary>
    private static async Task ShowProgressAsync(Task registering, RegistrationLedger ledger, LiveMode mode, TextWriter output)
    {
        switch (mode)
        {
            case LiveMode.Live:
                await AnsiConsole.Progress().AutoClear(true).StartAsync(async ctx =>
                {
                    var bar = ctx.AddTask("registering devices", maxValue: Math.Max(1, ledger.Total));
                    while (await Task.WhenAny(registering, Task.Delay(200)) != registering)
                        bar.Value = ledger.Done;
                    bar.Value = ledger.Done;
                });
                break;
            case LiveMode.Plain:
                while (await Task.WhenAny(registering, Task.Delay(TimeSpan.FromSeconds(5))) != registering)
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"registering: {ledger.Done:N0}/{ledger.Total:N0}"));
                break;
            default:
                await Task.WhenAny(registering);
                break;
        }
    }
}
