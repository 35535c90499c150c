namespace FleetSim.DeviceActors.Files;

/// <summary>
/// Periodic file uploads (PROTOCOL.md section 8): POST /devices/{id}/files, PUT the blob to the returned SAS URL,
/// POST the notification. The HTTPS endpoint is the hub's host name (port <see cref="HttpsPort"/>).
/// </summary>
public sealed record FileUploadOptions
{
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Size of each uploaded blob in bytes.</summary>
    public int SizeBytes { get; init; } = 1024;

    public int HttpsPort { get; init; } = 443;

    public string BlobNamePrefix { get; init; } = "fleetsim";

    public string? Validate()
    {
        if (Interval <= TimeSpan.Zero) return $"file upload interval must be positive (found {Interval})";
        if (SizeBytes < 0) return $"file upload size must be 0 or more (found {SizeBytes})";
        if (HttpsPort is <= 0 or > 65535) return $"file upload port must be 1..65535 (found {HttpsPort})";
        if (string.IsNullOrWhiteSpace(BlobNamePrefix) || BlobNamePrefix.Contains('/'))
            return $"file upload blob name prefix must be non-empty and without '/' (found '{BlobNamePrefix}')";
        return null;
    }
}
