using FleetSim.HubEmulator;
using FleetSim.Protocol;
using FleetSim.Simulator.Commands;

namespace FleetSim.Simulator.Hub;

/// <summary><c>fleetsim hub --partitions N</c> (N &gt; 1): the partitioned hub until Ctrl+C or SIGTERM, its state file listing the partitions.</summary>
public static class PartitionedHubCommand
{
    public static async Task<int> RunAsync(HubEmulatorOptions options, int partitions, string? stateFile, Shutdown shutdown)
    {
        PartitionedHub hub;
        try
        {
            hub = await PartitionedHub.StartAsync(new PartitionedHubOptions(partitions)
            {
                HostName = options.HostName,
                BindAddress = options.BindAddress,
                MqttPort = options.MqttPort,
                HttpsPort = options.HttpsPort,
                DataDirectory = options.DataDirectory,
                Quotas = options.Quotas,
            }, Console.Error, shutdown.Token);
        }
        catch (OperationCanceledException) when (shutdown.Token.IsCancellationRequested)
        {
            Console.WriteLine($"{shutdown.Reason}: stopped while starting");
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException or InvalidOperationException or TimeoutException)
        {
            Console.Error.WriteLine($"error: the partitioned emulator could not start: {Redaction.Redact(e.Message)}");
            Console.Error.WriteLine("hint: ports below 1024 need root; use --mqtt-port 0 --https-port 0 for free ports");
            return ExitCodes.RunFailed;
        }

        await using (hub)
        {
            var state = new HubState(hub.ServiceConnectionString, hub.CaCertificatePath, hub.HostName, hub.Partitions[0].MqttPort, hub.HttpsPort)
            {
                Partitions = [.. hub.Partitions.Select(static p => new HubStatePartition(p.Host, p.MqttPort, p.HttpsPort))],
            };
            var statePath = stateFile ?? Path.Combine(Path.GetDirectoryName(hub.CaCertificatePath)!, "hub-state.json");
            await HubCommand.WriteStateAsync(statePath, state);

            Console.WriteLine($"IoT Hub emulator in {partitions} partitions: service API (HTTPS) {options.BindAddress}:{hub.HttpsPort}");
            foreach (var p in hub.Partitions)
                Console.WriteLine($"  partition {p.Index}        MQTT/TLS {p.Host}:{p.MqttPort}, HTTPS {p.Host}:{p.HttpsPort}");
            Console.WriteLine("  devices            connect to partition HubPartitions.PartitionOf(deviceId, N) (fleetsim run --hub-state does)");
            Console.WriteLine($"  host name          {hub.HostName}");
            Console.WriteLine($"  connection string  {Redaction.Redact(hub.ServiceConnectionString)} (full value in the state file)");
            Console.WriteLine($"  CA certificate     {hub.CaCertificatePath}");
            Console.WriteLine($"  state file         {statePath}");
            Console.WriteLine($"  quotas             {HubCommand.Quotas(options.Quotas)} (hub-wide; each partition enforces 1/{partitions})");
            Console.WriteLine("Ctrl+C to stop.");

            try
            {
                using var poll = new PeriodicTimer(TimeSpan.FromSeconds(1));
                while (hub.ExitedPartitions == 0)
                    await poll.WaitForNextTickAsync(shutdown.Token);
                Console.Error.WriteLine("error: a hub partition process ended; stopping the hub");
                return ExitCodes.RunFailed;
            }
            catch (OperationCanceledException)
            {
                Console.WriteLine($"{shutdown.Reason}: stopping the emulator");
            }
        }

        return ExitCodes.Ok;
    }
}
