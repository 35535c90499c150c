using System.Net;
using System.Security.Cryptography;
using FleetSim.HubEmulator.Certificates;
using FleetSim.HubEmulator.Partitioning;
using FleetSim.HubEmulator.Throttling;

namespace FleetSim.Simulator.Hub;

/// <summary>What a partitioned hub is asked for: hub-wide quotas (split evenly over the partitions) and where the front listens.</summary>
public sealed record PartitionedHubOptions(int Partitions)
{
    public string HostName { get; init; } = "localhost";

    /// <summary>The front's address (the partitions listen on 127.0.0.(10+k)).</summary>
    public IPAddress BindAddress { get; init; } = IPAddress.Loopback;

    /// <summary>Every partition's MQTT/TLS port (each on its own address); 0 picks a free one.</summary>
    public int MqttPort { get; init; }

    /// <summary>The front's HTTPS port and every partition's (each on its own address); 0 picks free ones.</summary>
    public int HttpsPort { get; init; }

    /// <summary>Where ca.pem and the partitions' folders go; a new temporary folder (removed at the end) when null.</summary>
    public string? DataDirectory { get; init; }

    public ThrottlingQuotas Quotas { get; init; } = new();

    public TimeSpan SasExpiryGrace { get; init; }

    /// <summary>Each partition's share of the hub-wide quotas: a per-second quota over N partitions is N quotas of 1/N.</summary>
    public ThrottlingQuotas PartitionQuotas() => new()
    {
        ConnectsPerSecond = Quotas.ConnectsPerSecond / Partitions,
        TelemetryPerSecond = Quotas.TelemetryPerSecond / Partitions,
        TwinOperationsPerSecond = Quotas.TwinOperationsPerSecond / Partitions,
        RegistryOperationsPerSecond = Quotas.RegistryOperationsPerSecond / Partitions,
    };
}

/// <summary>
/// An emulated hub split over partition processes (design: docs/architecture.md, "A partitioned hub"): N
/// <c>fleetsim hub-partition</c> children, partition k on 127.0.0.(10+k), and in this process the <see cref="HubFront"/>
/// that serves the hub's one service API and reaches the owning partition. One CA, one server certificate (naming every
/// partition address), one service key: one connection string for the whole hub.
/// </summary>
public sealed class PartitionedHub : IAsyncDisposable
{
    private readonly PartitionProcesses _partitions;
    private readonly HubFront _front;
    private readonly EmulatorCertificates _certificates;
    private readonly string? _ownedDirectory;

    private PartitionedHub(PartitionedHubOptions options, PartitionProcesses partitions, HubFront front, EmulatorCertificates certificates,
        string serviceKey, string caPath, string? ownedDirectory)
    {
        _partitions = partitions;
        _front = front;
        _certificates = certificates;
        _ownedDirectory = ownedDirectory;
        HostName = options.HostName;
        CaCertificatePath = caPath;
        ServiceConnectionString = $"HostName={options.HostName};SharedAccessKeyName=iothubowner;SharedAccessKey={serviceKey}";
    }

    public string HostName { get; }

    /// <summary>A secret: never log it unredacted.</summary>
    public string ServiceConnectionString { get; }

    public string CaCertificatePath { get; }

    public string CaCertificatePem => _certificates.CaPem;

    /// <summary>The front's HTTPS port (the service API).</summary>
    public int HttpsPort => _front.HttpsPort;

    /// <summary>The partitions, in partition order: devices connect to <c>Partitions[HubPartitions.PartitionOf(id, N)]</c>.</summary>
    public IReadOnlyList<PartitionListener> Partitions => _partitions.Listeners;

    public IReadOnlyList<int> ProcessIds => _partitions.ProcessIds;

    /// <summary>Partition processes that have exited.</summary>
    public int ExitedPartitions => _partitions.Exited;

    /// <summary>Partitions that exited before the hub stopped them (a run warns about each).</summary>
    public IReadOnlyList<PartitionExit> PartitionExits => _partitions.Exits;

    /// <summary>Raised when a partition exits before the hub stops it.</summary>
    public event Action<PartitionExit>? PartitionExited
    {
        add => _partitions.PartitionExited += value;
        remove => _partitions.PartitionExited -= value;
    }

    public static async Task<PartitionedHub> StartAsync(PartitionedHubOptions options, TextWriter log, CancellationToken ct)
    {
        if (options.Partitions is < 2 or > PartitionAddresses.MaxPartitions)
            throw new ArgumentException($"a partitioned hub has 2 to {PartitionAddresses.MaxPartitions} partitions (was {options.Partitions})", nameof(options));
        var owned = options.DataDirectory is null ? Directory.CreateTempSubdirectory("fleetsim-hub-").FullName : null;
        var dataDirectory = options.DataDirectory ?? owned!;
        Directory.CreateDirectory(dataDirectory);
        var certificates = EmulatorCertificates.Create(options.HostName, TimeProvider.System, PartitionAddresses.All(options.Partitions));
        var caPath = Path.Combine(dataDirectory, "ca.pem");
        var certificatesFile = Path.Combine(dataDirectory, "partition-certificates.p12");
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        PartitionProcesses? partitions = null;
        try
        {
            await File.WriteAllTextAsync(caPath, certificates.CaPem, ct);
            certificates.Export(certificatesFile);
            partitions = await PartitionProcesses.StartAsync(
                new PartitionSettings(options.Partitions, options.HostName, options.MqttPort, options.HttpsPort, certificatesFile, dataDirectory, key,
                    options.PartitionQuotas(), options.SasExpiryGrace),
                log, ct);
            var front = await HubFront.StartAsync(new HubFrontOptions
            {
                HostName = options.HostName,
                BindAddress = options.BindAddress,
                HttpsPort = options.HttpsPort,
                ServiceKey = key,
                Certificates = certificates,
                Partitions = [.. partitions.Listeners.Select(static p => new UriBuilder("https", p.Host, p.HttpsPort).Uri)],
            }, ct);
            return new PartitionedHub(options, partitions, front, certificates, key, caPath, owned);
        }
        catch
        {
            if (partitions is not null)
                await partitions.DisposeAsync();
            certificates.Dispose();
            DeleteOwned(owned);
            throw;
        }
        finally
        {
            File.Delete(certificatesFile); // the partitions have loaded it: private keys stay on disk no longer than needed
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _front.DisposeAsync();
        await _partitions.DisposeAsync();
        _certificates.Dispose();
        DeleteOwned(_ownedDirectory);
    }

    private static void DeleteOwned(string? directory)
    {
        if (directory is null)
            return;
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a file still open elsewhere stays behind in the temp folder
        }
    }
}
