using System.Net;
using FleetSim.Scenarios.Model;

namespace FleetSim.Simulator.Chaos;

/// <summary>How a run uses the chaos proxy: when <c>hub.chaos</c> may apply, and the proxy in front of the run's hub.</summary>
public static class ChaosRun
{
    /// <summary>
    /// Null when the scenario's hub.chaos can apply to this run, else why not (the file position included): the hub must
    /// be an existing one, the devices in this process, and every group on MQTT over TCP straight to the hub.
    /// </summary>
    public static string? Check(Scenario scenario, string scenarioPath, bool existingHub, bool cluster)
    {
        if (scenario.Hub.Chaos.Count == 0)
            return null;
        var at = $"{scenarioPath}:{scenario.Hub.ChaosAt}";
        if (!existingHub)
            return $"{at}: hub.chaos applies to an existing hub (hub.connectionString, --hub or --hub-state); the embedded hub takes the same faults under hub.embedded.faults";
        if (cluster)
            return $"{at}: hub.chaos needs the devices in this process (the proxy runs in it): drop --nodes/--wait-workers";
        foreach (var group in scenario.DeviceGroups)
        {
            if (group.Transport == TransportKind.MqttWebSockets)
                return $"{at}: hub.chaos relays MQTT over TCP only, and group '{group.Name}' uses mqtt-ws";
            if (group.Proxy is not null)
                return $"{at}: hub.chaos cannot be combined with a group's proxy (group '{group.Name}')";
            if (group.GatewayHostName is not null || group.ConnectionStrings?.GatewayHost is not null)
                return $"{at}: hub.chaos relays to the hub only, and group '{group.Name}' connects to a gateway";
        }

        return null;
    }

    /// <summary>A proxy that relays to the hub's MQTT endpoint (or each partition's), seeded from the scenario.</summary>
    public static ChaosProxy Start(Run.HubConnection hub, Scenario scenario)
    {
        var upstreams = new List<DnsEndPoint> { new(hub.MqttHost, hub.MqttPort) };
        upstreams.AddRange(hub.Partitions.Select(static p => new DnsEndPoint(p.MqttHost, p.MqttPort)));
        return ChaosProxy.Start(upstreams, seed: scenario.Seed);
    }
}
