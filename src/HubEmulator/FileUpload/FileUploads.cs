using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace FleetSim.HubEmulator.FileUpload;

/// <summary>One file upload as the hub saw it: requested, uploaded to the local blob store, and notified.</summary>
public sealed record FileUploadRecord(
    string CorrelationId, string DeviceId, string BlobName, string FilePath, bool Notified, bool? IsSuccess, int? StatusCode, string? StatusDescription);

/// <summary>
/// IoT Hub file upload (PROTOCOL.md section 8) with a local stand-in for Azure Storage: the hub hands out a blob
/// URL on its own HTTPS port (container <see cref="Container"/>) with a signed, expiring SAS query; the blob
/// endpoint stores the bytes under <c>{DataDirectory}/blobs</c>; the device then posts the completion notification.
/// </summary>
public sealed class FileUploads
{
    /// <summary>The one container the emulator's blob store has.</summary>
    public const string Container = "fleetsim-uploads";

    private readonly ConcurrentDictionary<string, FileUploadRecord> _uploads = new(StringComparer.Ordinal);
    private readonly byte[] _blobKey = RandomNumberGenerator.GetBytes(32);
    private readonly TimeProvider _time;

    internal FileUploads(string blobRoot, TimeProvider time)
    {
        BlobRoot = blobRoot;
        _time = time;
    }

    /// <summary>Blocks staged with Put Block, until Put Block List commits them (key: blob name + "\n" + block id).</summary>
    internal ConcurrentDictionary<string, byte[]> StagedBlocks { get; } = new(StringComparer.Ordinal);

    /// <summary>Where uploaded blobs are stored (one file per blob).</summary>
    public string BlobRoot { get; }

    public IReadOnlyList<FileUploadRecord> All() => [.. _uploads.Values];

    public FileUploadRecord? Find(string correlationId) => _uploads.TryGetValue(correlationId, out var r) ? r : null;

    /// <summary>Starts an upload: returns the correlation id, the blob name (prefixed with the device id) and its SAS query.</summary>
    internal (string CorrelationId, string BlobName, string SasQuery) Start(string deviceId, string blobName)
    {
        var correlationId = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('/', '_').Replace('+', '-');
        var fullName = $"{deviceId}/{blobName}";
        var expiry = _time.GetUtcNow().AddHours(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var sig = Sign(fullName, expiry);
        _uploads[correlationId] = new FileUploadRecord(correlationId, deviceId, fullName, PathFor(fullName), false, null, null, null);
        return (correlationId, fullName, $"?sv=2018-03-28&sr=b&sp=rcw&se={expiry}&sig={Uri.EscapeDataString(sig)}");
    }

    /// <summary>Checks a blob request's SAS (signature over blob name and expiry, not expired).</summary>
    internal bool IsBlobAccessAllowed(string blobName, string? expiry, string? sig)
    {
        if (expiry is null || sig is null || !long.TryParse(expiry, out var se) || _time.GetUtcNow().ToUnixTimeSeconds() >= se)
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(blobName, expiry));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(sig));
    }

    /// <summary>The file for a blob name, or null if the name would escape the blob folder.</summary>
    internal string? SafePathFor(string blobName)
    {
        if (blobName.Length == 0 || blobName.Contains("..", StringComparison.Ordinal) || blobName.Contains('\\') || Path.IsPathRooted(blobName))
        {
            return null;
        }

        var path = PathFor(blobName);
        return path.StartsWith(Path.GetFullPath(BlobRoot) + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? path : null;
    }

    /// <summary>Records the device's notification; false for an unknown correlation id or another device's upload.</summary>
    internal bool Notify(string deviceId, string correlationId, bool isSuccess, int? statusCode, string? statusDescription)
    {
        if (!_uploads.TryGetValue(correlationId, out var record) || !string.Equals(record.DeviceId, deviceId, StringComparison.Ordinal))
        {
            return false;
        }

        _uploads[correlationId] = record with { Notified = true, IsSuccess = isSuccess, StatusCode = statusCode, StatusDescription = statusDescription };
        return true;
    }

    private string PathFor(string blobName) => Path.GetFullPath(Path.Combine(BlobRoot, blobName.Replace('/', Path.DirectorySeparatorChar)));

    private string Sign(string blobName, string expiry) =>
        Convert.ToBase64String(HMACSHA256.HashData(_blobKey, Encoding.UTF8.GetBytes($"{Container}/{blobName}\n{expiry}")));
}
