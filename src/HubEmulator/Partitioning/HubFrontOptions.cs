using System.Net;
using FleetSim.HubEmulator.Certificates;

namespace FleetSim.HubEmulator.Partitioning;

/// <summary>Where the front of a partitioned hub listens and which partitions it serves.</summary>
public sealed class HubFrontOptions
{
    /// <summary>The hub host name (the same on every partition: service tokens name it).</summary>
    public string HostName { get; init; } = "localhost";

    public IPAddress BindAddress { get; init; } = IPAddress.Loopback;

    /// <summary>The service API's HTTPS port; 0 picks a free one.</summary>
    public int HttpsPort { get; init; }

    /// <summary>The iothubowner key (base64) shared by the front and every partition.</summary>
    public required string ServiceKey { get; init; }

    /// <summary>The hub's CA and server certificate (shared with the partitions); the front does not own them.</summary>
    public required EmulatorCertificates Certificates { get; init; }

    /// <summary>Each partition's HTTPS base address (its service API), in partition order.</summary>
    public required IReadOnlyList<Uri> Partitions { get; init; }

    public FrontRoutes Routes { get; init; } = FrontRoutes.Default;

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
