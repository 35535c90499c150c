using System.CommandLine;
using FleetSim.Protocol;
using FleetSim.Scenarios.Load;
using FleetSim.Scenarios.Service;
using FleetSim.Simulator.Run;

namespace FleetSim.Simulator.Commands;

/// <summary>
/// <c>fleetsim cleanup --hub CONNSTR|--hub-state FILE --run ID | --prefix P</c>: deletes the devices runs created and
/// left behind (an interrupted run, --keep-devices). Only devices carrying the run tag <c>tags.fleetsim.run</c> are
/// ever selected, so a device no run created is never deleted, whatever the prefix.
/// </summary>
public static class CleanupCommand
{
    public static Command Create()
    {
        var hubOption = new Option<string?>("--hub") { Description = "Service connection string of the hub" };
        var hubStateOption = new Option<FileInfo?>("--hub-state") { Description = "State file of a 'fleetsim hub' running elsewhere" };
        var runOption = new Option<string?>("--run") { Description = "Delete the devices of this run id (printed by fleetsim run; twin tag fleetsim.run)" };
        var prefixOption = new Option<string?>("--prefix") { Description = "Delete the devices whose id starts with this prefix and that a run created" };
        var tierOption = new Option<string?>("--tier") { Description = "The hub's tier (F1, B1-B3, S1-S3): deletion is paced to its registry throttle" };
        var unitsOption = new Option<int?>("--units") { Description = "Units of --tier (default 1)" };
        var dryRunOption = new Option<bool>("--dry-run") { Description = "List what would be deleted, delete nothing" };
        var command = new Command("cleanup", "Delete the devices that runs created and left on a hub")
        {
            hubOption, hubStateOption, runOption, prefixOption, tierOption, unitsOption, dryRunOption,
        };
        command.SetAction(async (parse, _) =>
        {
            var run = parse.GetValue(runOption);
            var prefix = parse.GetValue(prefixOption);
            if ((run is null) == (prefix is null) || run?.Length == 0 || prefix?.Length == 0)
                return Fail("give exactly one of --run ID or --prefix P (a non-empty value)");

            Scenarios.Model.ConnectionStringHub? hub;
            if (parse.GetValue(hubOption) is { } text)
            {
                if (parse.GetValue(hubStateOption) is not null)
                    return Fail("--hub and --hub-state cannot be used together (the state file names the hub)");
                if (!ServiceConnectionString.TryParse(ScenarioInput.Interpolate(text), out var parsed, out var error))
                    return Fail("--hub: " + error);
                hub = new Scenarios.Model.ConnectionStringHub(parsed);
            }
            else if (parse.GetValue(hubStateOption) is { } stateFile)
            {
                if (!HubStateFile.TryRead(stateFile.FullName, out hub, out var error))
                    return Fail("--hub-state: " + error);
            }
            else
            {
                return Fail("name the hub with --hub CONNSTR or --hub-state FILE");
            }

            Protocol.Tiers.HubTier? tier = null;
            if (parse.GetValue(tierOption) is { } tierName && !Protocol.Tiers.HubTier.TryCreate(tierName, parse.GetValue(unitsOption) ?? 1, out tier, out var tierError))
                return Fail("--tier: " + tierError);

            using var shutdown = new Shutdown();
            await using var connection = HubConnection.External(hub);
            using var service = new HubServiceClient(connection.Connection, connection.Rest);
            if (tier is not null)
                service.RegistryPacing = new RegistryPacer(tier.RegistryOperationsPerSecond * PacingLimits.Headroom);
            try
            {
                var ids = run is not null
                    ? await DeviceCleanup.FindByRunAsync(service, run, shutdown.Token)
                    : await DeviceCleanup.FindByPrefixAsync(service, prefix!, shutdown.Token);
                var what = run is not null ? $"run {run}" : $"prefix '{prefix}' created by a run";
                if (parse.GetValue(dryRunOption))
                {
                    Console.Out.WriteLine($"{ids.Count:N0} devices of {what} would be deleted from {hub.ConnectionString.HostName}");
                    foreach (var id in ids)
                        Console.Out.WriteLine("  " + id);
                    return ExitCodes.Ok;
                }

                var deleted = ids.Count == 0 ? 0 : await DeviceCleanup.DeleteAsync(service, ids, shutdown.Token);
                Console.Out.WriteLine($"deleted {deleted:N0} devices of {what} from {hub.ConnectionString.HostName}");
                return ExitCodes.Ok;
            }
            catch (OperationCanceledException) when (shutdown.Token.IsCancellationRequested)
            {
                Console.Error.WriteLine("cancelled: devices deleted so far are gone; run the same command again for the rest");
                return ExitCodes.RunFailed;
            }
            catch (Exception e) when (e is HubServiceException or HttpRequestException or IOException)
            {
                Console.Error.WriteLine("error: cleanup failed: " + Redaction.Redact(e.Message));
                return ExitCodes.RunFailed;
            }
        });
        return command;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine("error: " + message);
        return ExitCodes.BadInput;
    }
}
