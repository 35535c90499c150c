using FleetSim.Scenarios.Model;

namespace FleetSim.Simulator.Run;

/// <summary>
/// <c>fleetsim run --dry-run</c>: the scenario validated, the hub resolved, and what the run would create and ask of the
/// hub's tier, printed without a single request to the hub (nothing is started, created or changed).
/// </summary>
public static class DryRun
{
    public static int Print(RunRequest request, TextWriter output)
    {
        var scenario = request.Scenario;
        var tier = RunDevices.EffectiveTier(request);
        output.WriteLine($"dry run of '{scenario.Name}' ({request.ScenarioPath}): nothing is started, created or changed");
        var external = request.Hub ?? scenario.Hub as ConnectionStringHub;
        output.WriteLine(external is null
            ? $"hub: the embedded emulator, started for the run{(tier is null ? " without throttles" : $", shaped as {tier}")}"
            : $"hub: {external.ConnectionString.HostName} (MQTT port {external.MqttPort}, HTTPS port {external.HttpsPort}){(tier is null ? ", tier unknown" : $", tier {tier}")}");
        output.WriteLine($"devices: {scenario.TotalDevices:N0} in {scenario.DeviceGroups.Count} group{(scenario.DeviceGroups.Count == 1 ? "" : "s")}");
        foreach (var group in scenario.DeviceGroups)
        {
            var how = group.ConnectionStrings is { } listed
                ? external is null ? $"keys from {listed.Path}, registered on the emulator" : $"given by {listed.Path}: they exist already and are not registered"
                : group.Credential == CredentialKind.X509
                    ? group.Certificates is null ? "X.509, a self-signed certificate made for each device" : "X.509, certificates from the scenario's folder"
                    : "symmetric keys generated for each device";
            var range = group.Count == 0 ? "" : group.Count == 1 ? $" {group.DeviceId(0)}" : $" {group.DeviceId(0)} .. {group.DeviceId(group.Count - 1)}";
            output.WriteLine($"  {group.Name}: {group.Count:N0} devices{range}, {how}");
        }

        var pacing = RunDevices.Pacing(request);
        var check = TierCheck.Evaluate(scenario, tier, registersAll: external is null, pacing);
        foreach (var line in check.Lines)
            output.WriteLine(line);
        foreach (var line in pacing.Describe())
            output.WriteLine(line);
        if (tier is not null && pacing.Limits is null)
            output.WriteLine("pacing: off (--no-pace or hub.pace: false): connects and telemetry go as the scenario asks and the hub throttles the excess");
        output.WriteLine(external is null
            ? "cleanup: the emulator's devices go away with it"
            : request.KeepDevices
                ? "cleanup: devices the run creates are kept (--keep-devices); they are tagged fleetsim.run=<run id> for fleetsim cleanup"
                : "cleanup: devices the run creates are deleted at its end (bulk); existing devices it reuses are left as they are");
        foreach (var warning in check.Warnings)
            output.WriteLine("warning: " + warning);
        return ExitCodes.Ok;
    }
}
