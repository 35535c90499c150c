using System.Net;
using Akka.Actor;
using FleetSim.DeviceActors.Transport;
using FleetSim.Metrics;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors.Tests.Integration;

/// <summary>Per-device endpoints: the partition of a partitioned hub, and spread loopback source addresses (issue 11).</summary>
public sealed class ConnectionTargetTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const string Key = "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ==";
    private readonly TestCertificates _certificates = TestCertificates.Create();
    private readonly FleetMetrics _metrics = new();
    private TlsBroker _a = null!;
    private TlsBroker _b = null!;

    public ConnectionTargetTests() : base("akka.loglevel = WARNING")
    {
    }

    public async Task InitializeAsync()
    {
        _a = await TlsBroker.StartAsync(_certificates);
        _b = await TlsBroker.StartAsync(_certificates);
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        _certificates.Dispose();
    }

    private DeviceOptions Options() => new()
    {
        HostName = "localhost",
        EndpointHost = "127.0.0.1",
        EndpointPort = 1, // never used: every device goes to its partition
        TrustedCa = _certificates.Ca,
        Telemetry = null,
        Partitions = [new HubPartitionEndpoint("127.0.0.1", _a.Port, 1), new HubPartitionEndpoint("127.0.0.1", _b.Port, 1)],
        LocalAddresses = [IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3")],
    };

    [Fact]
    public void Each_device_connects_to_its_partition_from_a_source_address_chosen_by_index()
    {
        var options = Options();
        var group = new DeviceGroup(options, new DeviceMetrics(_metrics));
        var ids = Enumerable.Range(0, 8).Select(i => "part-" + i).ToArray();
        for (var i = 0; i < ids.Length; i++)
            ChildActorOf(DeviceActor.Props(new DeviceIdentity(ids[i], i, Key), group)).Tell(new DeviceActor.Start(options.Time.GetTimestamp()));

        AwaitCondition(() => _a.Remotes.Count + _b.Remotes.Count == ids.Length, TimeSpan.FromSeconds(20));
        for (var i = 0; i < ids.Length; i++)
        {
            var owner = HubPartitions.PartitionOf(ids[i], 2) == 0 ? _a : _b;
            var other = owner == _a ? _b : _a;
            var seen = Assert.Single(owner.Remotes, r => r.ClientId == ids[i]);
            Assert.DoesNotContain(other.Remotes, r => r.ClientId == ids[i]);
            Assert.Equal(IPAddress.Parse(i % 2 == 0 ? "127.0.0.2" : "127.0.0.3"), ((IPEndPoint)seen.Remote!).Address);
        }

        Assert.NotEmpty(_a.Remotes); // the ids above land on both partitions
        Assert.NotEmpty(_b.Remotes);
    }

    [Fact]
    public void Source_addresses_apply_only_to_direct_tcp_connections_to_a_loopback_address()
    {
        var identity = new DeviceIdentity("d", 3, Key);
        var options = Options() with { Partitions = [] };
        Assert.Equal(IPAddress.Parse("127.0.0.3"), ConnectionTarget.For(options, identity).LocalAddress);
        Assert.Null(ConnectionTarget.For(options with { EndpointHost = "localhost" }, identity).LocalAddress);
        Assert.Null(ConnectionTarget.For(options with { Transport = DeviceTransportKind.MqttWebSockets }, identity).LocalAddress);
        Assert.Null(ConnectionTarget.For(options with { LocalAddresses = [] }, identity).LocalAddress);
        Assert.Contains(options with { LocalAddresses = [IPAddress.Parse("10.1.2.3")] } is var bad ? bad.Validate() : [],
            e => e.Contains("loopback", StringComparison.Ordinal));
    }

    [Fact]
    public void A_partitioned_device_uploads_files_to_its_partitions_https_endpoint()
    {
        var options = Options() with { FileUpload = new Files.FileUploadOptions { HttpsPort = 443 } };
        var target = ConnectionTarget.For(options, new DeviceIdentity("part-1", 1, Key));
        var partition = options.Partitions[HubPartitions.PartitionOf("part-1", 2)];
        Assert.Equal((partition.Host, partition.HttpsPort), (target.UploadHost, target.HttpsPort));
        Assert.Equal(partition.MqttPort, target.Port);
    }
}
