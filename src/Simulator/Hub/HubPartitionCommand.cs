using System.CommandLine;
using System.Globalization;
using FleetSim.HubEmulator;
using FleetSim.HubEmulator.Partitioning;
using FleetSim.HubEmulator.Throttling;
using FleetSim.Protocol;
using FleetSim.Simulator.Commands;

namespace FleetSim.Simulator.Hub;

/// <summary>
/// <c>fleetsim hub-partition</c> (hidden): one partition of a partitioned hub, started by <see cref="PartitionProcesses"/>
/// for <c>fleetsim hub --partitions N</c> or a run's embedded partitioned hub. It is an emulator on 127.0.0.(10+k) with
/// the hub's shared certificates (a file) and service key (an environment variable, never the command line), writes a
/// state file once listening, and exits with the process named by --exit-with.
/// </summary>
public static class HubPartitionCommand
{
    /// <summary>The environment variable that carries the hub's service key to a partition.</summary>
    public const string ServiceKeyVariable = "FLEETSIM_HUB_SERVICE_KEY";

    public const string Name = "hub-partition";

    public static Command Create()
    {
        var index = new Option<int>("--index") { Description = "This partition's number (0-based)", Required = true };
        var count = new Option<int>("--of") { Description = "How many partitions the hub has", Required = true };
        var hostName = new Option<string>("--host-name") { Description = "The hub's host name", DefaultValueFactory = _ => "localhost" };
        var mqttPort = new Option<int>("--mqtt-port") { Description = "MQTT over TLS port (0 picks a free one)", DefaultValueFactory = _ => 0 };
        var httpsPort = new Option<int>("--https-port") { Description = "HTTPS port (0 picks a free one)", DefaultValueFactory = _ => 0 };
        var certificates = new Option<FileInfo>("--certificates") { Description = "The hub's CA and server certificate (PKCS#12)", Required = true };
        var dataDir = new Option<DirectoryInfo>("--data-dir") { Description = "Where this partition keeps ca.pem and blobs", Required = true };
        var stateFile = new Option<FileInfo>("--state-file") { Description = "Written once listening", Required = true };
        var exitWith = new Option<int>("--exit-with") { Description = "Exit when the process with this id ends", Required = true };
        var maxConnects = new Option<double?>("--max-connects-per-second") { Description = "This partition's share of the connect quota" };
        var maxTelemetry = new Option<double?>("--max-telemetry-per-second") { Description = "This partition's share of the telemetry quota" };
        var maxTwinOps = new Option<double?>("--max-twin-ops-per-second") { Description = "This partition's share of the twin operation quota" };
        var sasGrace = new Option<double>("--sas-expiry-grace-seconds") { Description = "Seconds after a SAS token's expiry before the connection is closed", DefaultValueFactory = _ => 0 };
        var command = new Command(Name, "One partition of a partitioned hub (started by 'fleetsim hub --partitions N' and by runs)")
        {
            index, count, hostName, mqttPort, httpsPort, certificates, dataDir, stateFile, exitWith, maxConnects, maxTelemetry, maxTwinOps, sasGrace,
        };
        command.Hidden = true;
        command.SetAction(async (parse, _) =>
        {
            var n = parse.GetValue(count);
            var k = parse.GetValue(index);
            if (n is < 1 or > PartitionAddresses.MaxPartitions || k < 0 || k >= n)
                return Fail($"--index {k} --of {n}: expected 0 <= index < of <= {PartitionAddresses.MaxPartitions}");
            var key = Environment.GetEnvironmentVariable(ServiceKeyVariable);
            if (string.IsNullOrEmpty(key))
                return Fail($"{ServiceKeyVariable} is not set (the hub that starts a partition passes its service key there)");
            var parent = parse.GetValue(exitWith);
            var options = new HubEmulatorOptions
            {
                HostName = parse.GetValue(hostName)!,
                BindAddress = PartitionAddresses.Of(k),
                MqttPort = parse.GetValue(mqttPort),
                HttpsPort = parse.GetValue(httpsPort),
                DataDirectory = parse.GetValue(dataDir)!.FullName,
                CertificatesFile = parse.GetValue(certificates)!.FullName,
                ServiceKey = key,
                SasExpiryGrace = TimeSpan.FromSeconds(parse.GetValue(sasGrace)),
                Quotas = new ThrottlingQuotas
                {
                    ConnectsPerSecond = parse.GetValue(maxConnects),
                    TelemetryPerSecond = parse.GetValue(maxTelemetry),
                    TwinOperationsPerSecond = parse.GetValue(maxTwinOps),
                },
            };

            // Ctrl+C in a terminal reaches the whole process group: the partition ignores it and stays up while the run
            // that owns it stops its devices and reads the accounting; SIGTERM (from that owner) or its end stop it.
            using var stop = new CancellationTokenSource();
            using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => c.Cancel = true);
            using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
            {
                c.Cancel = true;
                stop.Cancel();
            });
            IoTHubEmulator hub;
            try
            {
                hub = await IoTHubEmulator.StartAsync(options, null, stop.Token);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
            {
                Console.Error.WriteLine($"error: partition {k} could not start on {options.BindAddress}: {Redaction.Redact(e.Message)}");
                return ExitCodes.RunFailed;
            }

            await using (hub)
            {
                await HubCommand.WriteStateAsync(parse.GetValue(stateFile)!.FullName,
                    new HubState(hub.ServiceConnectionString, hub.CaCertificatePath, hub.HostName, hub.MqttPort, hub.HttpsPort));
                Console.WriteLine($"hub partition {k} of {n} listening: MQTT/TLS {options.BindAddress}:{hub.MqttPort}, HTTPS {options.BindAddress}:{hub.HttpsPort}");
                using var poll = new PeriodicTimer(TimeSpan.FromSeconds(1));
                try
                {
                    while (NodeCommand.IsRunning(parent))
                        await poll.WaitForNextTickAsync(stop.Token);
                    Console.WriteLine($"hub partition {k}: process {parent.ToString(CultureInfo.InvariantCulture)} ended, stopping");
                }
                catch (OperationCanceledException)
                {
                    Console.WriteLine($"hub partition {k}: SIGTERM, stopping");
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine("error: " + message);
        return ExitCodes.BadInput;
    }
}
