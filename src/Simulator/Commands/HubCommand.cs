using System.CommandLine;
using System.Net;
using System.Text.Json;
using FleetSim.HubEmulator;
using FleetSim.HubEmulator.Throttling;
using FleetSim.Protocol;

namespace FleetSim.Simulator.Commands;

/// <summary><c>fleetsim hub</c>: the emulator alone, for scripts, other tools and the official SDKs.</summary>
public static class HubCommand
{
    public static Command Create()
    {
        var hostName = new Option<string>("--host-name") { Description = "Host name devices and services use (in SAS tokens and the certificate)", DefaultValueFactory = _ => "localhost" };
        var mqttPort = new Option<int>("--mqtt-port") { Description = "MQTT over TLS port (0 picks a free one)", DefaultValueFactory = _ => 8883 };
        var httpsPort = new Option<int>("--https-port") { Description = "HTTPS port: service REST API, file upload, MQTT over WebSockets (0 picks a free one)", DefaultValueFactory = _ => 443 };
        var bind = new Option<string>("--bind") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
        var stateFile = new Option<FileInfo?>("--state-file") { Description = "Write a JSON file with the connection string, CA path, host name and ports once listening" };
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = "Where the CA certificate (ca.pem) is written (default: a new temporary folder)" };
        var maxConnects = new Option<double?>("--max-connects-per-second") { Description = "Throttle device connects hub-wide: over it CONNACK 3 (default: unlimited)" };
        var maxTelemetry = new Option<double?>("--max-telemetry-per-second") { Description = "Throttle telemetry hub-wide: over it PUBACKs are held back (default: unlimited)" };
        var tierOption = new Option<string?>("--tier") { Description = "Throttle like this IoT Hub tier (F1, B1-B3, S1-S3): registry operations, new connections, telemetry; --max-* options override its rows" };
        var unitsOption = new Option<int?>("--units") { Description = "Units of --tier (default 1)" };
        var maxTwinOps = new Option<double?>("--max-twin-ops-per-second") { Description = "Throttle device twin GETs and reported patches hub-wide: over it status 429 (default: unlimited)" };
        var partitions = new Option<int>("--partitions") { Description = "Split the hub over N emulator processes (partition k listens on 127.0.0.(10+k), same ports; this process serves the REST API and routes to them)", DefaultValueFactory = _ => 1 };

        var command = new Command("hub", "Run the IoT Hub emulator alone until Ctrl+C or SIGTERM")
        {
            hostName, mqttPort, httpsPort, bind, stateFile, dataDir, maxConnects, maxTelemetry, maxTwinOps, partitions, tierOption, unitsOption,
        };
        command.SetAction(async (parse, _) =>
        {
            if (!IPAddress.TryParse(parse.GetValue(bind), out var address))
                return Fail($"--bind: '{parse.GetValue(bind)}' is not an IP address");
            foreach (var (name, port) in new[] { ("--mqtt-port", parse.GetValue(mqttPort)), ("--https-port", parse.GetValue(httpsPort)) })
            {
                if (port is < 0 or > 65535)
                    return Fail($"{name}: {port} is not a port number (0-65535)");
            }

            foreach (var (name, rate) in new[]
                     {
                         ("--max-connects-per-second", parse.GetValue(maxConnects)), ("--max-telemetry-per-second", parse.GetValue(maxTelemetry)),
                         ("--max-twin-ops-per-second", parse.GetValue(maxTwinOps)),
                     })
            {
                if (rate is { } r && (!double.IsFinite(r) || r <= 0 || r > ThrottlingQuotas.MaxRate))
                    return Fail($"{name}: {r.ToString(System.Globalization.CultureInfo.InvariantCulture)} is not a rate: expected a number more than 0 and at most {ThrottlingQuotas.MaxRate:0} per second (leave it out for unlimited)");
            }

            var partitionCount = parse.GetValue(partitions);
            if (partitionCount is < 1 or > HubEmulator.Partitioning.PartitionAddresses.MaxPartitions)
                return Fail($"--partitions: expected a whole number from 1 to {HubEmulator.Partitioning.PartitionAddresses.MaxPartitions}; found {partitionCount}");
            if (partitionCount > 1 && !IPAddress.IsLoopback(address))
                return Fail($"--partitions {partitionCount}: the partitions listen on 127.0.0.x, so the hub is reachable from this machine only; leave out --bind (found {address})");
            Protocol.Tiers.HubTier? tier = null;
            if (parse.GetValue(tierOption) is { } tierName && !Protocol.Tiers.HubTier.TryCreate(tierName, parse.GetValue(unitsOption) ?? 1, out tier, out var tierError))
                return Fail("--tier: " + tierError);
            if (tier is null && parse.GetValue(unitsOption) is not null)
                return Fail("--units needs --tier (e.g. --tier S1 --units 2)");

            using var shutdown = new Shutdown();
            var options = new HubEmulatorOptions
            {
                HostName = parse.GetValue(hostName)!,
                BindAddress = address,
                MqttPort = parse.GetValue(mqttPort),
                HttpsPort = parse.GetValue(httpsPort),
                DataDirectory = parse.GetValue(dataDir)?.FullName,
                Quotas = Run.HubConnection.Quotas(
                    new Scenarios.Model.HubQuotas(parse.GetValue(maxConnects), parse.GetValue(maxTelemetry), parse.GetValue(maxTwinOps)), tier),
            };

            if (partitionCount > 1)
                return await Hub.PartitionedHubCommand.RunAsync(options, partitionCount, parse.GetValue(stateFile)?.FullName, shutdown);

            IoTHubEmulator hub;
            try
            {
                hub = await IoTHubEmulator.StartAsync(options, null, shutdown.Token);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException or InvalidOperationException)
            {
                Console.Error.WriteLine($"error: the emulator could not start: {Redaction.Redact(e.Message)}");
                Console.Error.WriteLine("hint: ports below 1024 need root; use --mqtt-port 0 --https-port 0 for free ports");
                return ExitCodes.RunFailed;
            }

            await using (hub)
            {
                var state = new HubState(hub.ServiceConnectionString, hub.CaCertificatePath, hub.HostName, hub.MqttPort, hub.HttpsPort);
                var statePath = parse.GetValue(stateFile)?.FullName ?? Path.Combine(Path.GetDirectoryName(hub.CaCertificatePath)!, "hub-state.json");
                await WriteStateAsync(statePath, state);

                Console.WriteLine($"IoT Hub emulator listening: MQTT/TLS {address}:{hub.MqttPort}, HTTPS {address}:{hub.HttpsPort}");
                Console.WriteLine($"  host name          {hub.HostName}");
                Console.WriteLine($"  connection string  {Redaction.Redact(hub.ServiceConnectionString)} (full value in the state file)");
                Console.WriteLine($"  CA certificate     {hub.CaCertificatePath}");
                Console.WriteLine($"  state file         {statePath}");
                Console.WriteLine($"  quotas             {Quotas(options.Quotas)}");
                Console.WriteLine("Ctrl+C to stop.");

                try
                {
                    await Task.Delay(Timeout.Infinite, shutdown.Token);
                }
                catch (OperationCanceledException)
                {
                    Console.WriteLine($"{shutdown.Reason}: stopping the emulator");
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    internal static async Task WriteStateAsync(string path, HubState state)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // it holds the service key: owner only, from the start
        File.Delete(temp); // the mode applies only to a file created now
        await using (var stream = new FileStream(temp, options))
            await JsonSerializer.SerializeAsync(stream, state, HubStateJson.Default.HubState);
        File.Move(temp, path, overwrite: true); // readers polling for the file never see half of it
    }

    internal static string Quotas(ThrottlingQuotas q) =>
        q.ConnectsPerSecond is null && q.TelemetryPerSecond is null && q.TwinOperationsPerSecond is null
            ? "none"
            : $"connects/s {Rate(q.ConnectsPerSecond)}, telemetry/s {Rate(q.TelemetryPerSecond)}, twin ops/s {Rate(q.TwinOperationsPerSecond)}";

    private static string Rate(double? perSecond) => perSecond?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unlimited";

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return ExitCodes.BadInput;
    }
}

public sealed record HubState(string ServiceConnectionString, string CaCertificatePath, string HostName, int MqttPort, int HttpsPort)
{
    /// <summary>A partitioned hub's partitions in partition order (devices connect to their own); null for one process.</summary>
    public IReadOnlyList<HubStatePartition>? Partitions { get; init; }
}

/// <summary>Where one partition of a partitioned hub listens.</summary>
public sealed record HubStatePartition(string MqttHost, int MqttPort, int HttpsPort);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(HubState))]
internal sealed partial class HubStateJson : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>Reads the state file of a <c>fleetsim hub</c> into the hub a run can target (connection string, ports, CA).</summary>
public static class HubStateFile
{
    public static bool TryRead(string path, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Scenarios.Model.ConnectionStringHub? hub,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        hub = null;
        HubState? state;
        try
        {
            state = JsonSerializer.Deserialize(File.ReadAllText(path), HubStateJson.Default.HubState);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"cannot read {path}: {(e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : e.Message)}";
            return false;
        }
        catch (JsonException e)
        {
            error = $"{path} is not a fleetsim hub state file: {e.Message}";
            return false;
        }

        if (state is null || state.ServiceConnectionString is null || state.CaCertificatePath is null || state.MqttPort is <= 0 or > 65535 || state.HttpsPort is <= 0 or > 65535)
        {
            error = $"{path} is not a fleetsim hub state file (expected serviceConnectionString, caCertificatePath, mqttPort and httpsPort, as 'fleetsim hub' writes them)";
            return false;
        }

        if (!ServiceConnectionString.TryParse(state.ServiceConnectionString, out var connection, out var csError))
        {
            error = $"{path}: serviceConnectionString: {Redaction.Redact(csError)}";
            return false;
        }

        string pem;
        try
        {
            pem = File.ReadAllText(state.CaCertificatePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"{path}: cannot read the CA certificate {state.CaCertificatePath}: {e.Message}";
            return false;
        }

        var partitions = new List<Scenarios.Running.PartitionEndpoint>();
        foreach (var p in state.Partitions ?? [])
        {
            if (p is null || !IPAddress.TryParse(p.MqttHost, out _) || p.MqttPort is <= 0 or > 65535 || p.HttpsPort is <= 0 or > 65535)
            {
                error = $"{path}: partitions[{partitions.Count}]: expected mqttHost (an address), mqttPort and httpsPort, as 'fleetsim hub --partitions' writes them";
                return false;
            }

            partitions.Add(new Scenarios.Running.PartitionEndpoint(p.MqttHost, p.MqttPort, p.HttpsPort));
        }

        hub = new Scenarios.Model.ConnectionStringHub(connection)
        {
            MqttPort = state.MqttPort,
            HttpsPort = state.HttpsPort,
            TrustedCa = new Scenarios.Model.TrustedCaFile(state.CaCertificatePath, pem),
            Partitions = partitions,
        };
        error = null;
        return true;
    }
}

