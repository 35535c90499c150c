using System.Net;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using FleetSim.Cluster.Protocol;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Parsing;
using FleetSim.Scenarios.Running;
using DeviceGroup = FleetSim.DeviceActors.DeviceGroup;

namespace FleetSim.Cluster.Worker;

/// <summary>
/// A worker's copy of the fleet, derived from the coordinator's <see cref="RunPlan"/> with the same
/// <see cref="FleetPlanBuilder"/> (so every node has the same ids, seeds, payloads and options). Credentials arrive
/// with each device's start and are filled into <see cref="FleetPlan"/>'s credential arrays, so
/// <see cref="GroupPlan.Identity"/> works unchanged.
/// </summary>
public sealed class NodePlan : IDisposable
{
    private NodePlan(RunPlan plan, Scenario scenario, FleetPlan fleet, DeviceGroup[] groups)
    {
        Run = plan;
        Scenario = scenario;
        Fleet = fleet;
        Groups = groups;
    }

    public RunPlan Run { get; }

    public Scenario Scenario { get; }

    public FleetPlan Fleet { get; }

    /// <summary>Per scenario group, what its devices share on this node (options, transports, topics).</summary>
    public IReadOnlyList<DeviceGroup> Groups { get; }

    public IActorRef Coordinator => Run.Coordinator;

    /// <summary>Derives the fleet; returns null and the reasons when the plan does not make one here.</summary>
    public static NodePlan? Build(RunPlan plan, WorkerRuntime runtime, out IReadOnlyList<string> errors)
    {
        var loaded = ScenarioLoader.LoadFromText(plan.ScenarioText, plan.ScenarioFile, plan.Overrides);
        if (loaded.Scenario is null)
        {
            errors = [.. loaded.Errors.Select(static e => e.ToString())];
            return null;
        }

        var scenario = plan.Scale > 0 ? loaded.Scenario.Scale(plan.Scale) : loaded.Scenario;
        if (scenario.Seed != plan.Seed)
        {
            errors = [$"the scenario's seed here ({scenario.Seed}) differs from the coordinator's ({plan.Seed})"];
            return null;
        }

        X509Certificate2? ca = null;
        try
        {
            ca = plan.TrustedCaPem is null ? null : X509Certificate2.CreateFromPem(plan.TrustedCaPem);
            var sources = plan.SourceAddresses.Select(IPAddress.Parse).ToArray();
            var endpoint = new DeviceEndpoint(plan.HostName, plan.MqttHost, plan.MqttPort, plan.HttpsPort, ca)
            {
                Partitions = [.. plan.Partitions.Select(static p => new PartitionEndpoint(p.Host, p.MqttPort, p.HttpsPort))],
            };
            var credentials = new GroupCredentials[scenario.DeviceGroups.Count];
            for (var g = 0; g < credentials.Length; g++)
            {
                var group = scenario.DeviceGroups[g];
                var x509 = group.Credential == CredentialKind.X509 || group.ConnectionStrings?.UsesX509 == true;
                credentials[g] = new GroupCredentials(x509 ? null : new string[group.Count], x509 ? new X509Certificate2[group.Count] : null);
            }

            var fleet = FleetPlanBuilder.Build(scenario, endpoint, credentials, runId: plan.RunId);
            var groups = new DeviceGroup[fleet.Groups.Count];
            for (var g = 0; g < groups.Length; g++)
            {
                var options = fleet.Groups[g].Options with { ConnectionObserver = new RecoveryObserver(g, runtime.Recovery), LocalAddresses = sources };
                groups[g] = new DeviceGroup(options, runtime.DeviceMetrics, runtime.Transports);
            }

            errors = [];
            return new NodePlan(plan, scenario, fleet, groups);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or System.Security.Cryptography.CryptographicException)
        {
            ca?.Dispose();
            errors = [FleetSim.Protocol.Redaction.Redact("the run plan cannot be used here: " + e.Message)];
            return null;
        }
    }

    public void Dispose()
    {
        foreach (var group in Groups)
            group.Dispose();
    }
}
