using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace FleetSim.HubEmulator.FileUpload;

/// <summary>
/// One file upload as the hub saw it: requested, uploaded to the local blob store, and notified. <see cref="Length"/>
/// and <see cref="Sha256"/> describe the stored blob; its bytes stay at <see cref="FilePath"/> only while it is among
/// the most recent blobs the hub keeps (<see cref="HubEmulatorOptions.KeptBlobs"/>).
/// </summary>
public sealed record FileUploadRecord(
    string CorrelationId, string DeviceId, string BlobName, string FilePath, bool Notified, bool? IsSuccess, int? StatusCode, string? StatusDescription)
{
    /// <summary>Bytes stored for the blob; null until it was uploaded.</summary>
    public long? Length { get; init; }

    /// <summary>SHA-256 of the stored blob (lower-case hex); null until it was uploaded.</summary>
    public string? Sha256 { get; init; }
}

/// <summary>
/// IoT Hub file upload (PROTOCOL.md section 8) with a local stand-in for Azure Storage: the hub hands out a blob
/// URL on its own HTTPS port (container <see cref="Container"/>) with a signed, expiring SAS query; the blob
/// endpoint streams the bytes to a file under <c>{DataDirectory}/blobs</c> (staged blocks to files beside it); the
/// device then posts the completion notification. Bounded for soak runs: the newest
/// <see cref="HubEmulatorOptions.KeptBlobs"/> blobs keep their bytes (older ones only their length and digest), at
/// most <see cref="HubEmulatorOptions.KeptUploadRecords"/> upload records are kept, and blocks never committed are
/// deleted once their SAS has expired.
/// </summary>
public sealed class FileUploads
{
    /// <summary>The one container the emulator's blob store has.</summary>
    public const string Container = "fleetsim-uploads";

    /// <summary>The largest blob the store accepts in one request (what scenarios allow: 256 MiB).</summary>
    public const long MaxBlobBytes = 256L * 1024 * 1024;

    private static readonly TimeSpan SasLifetime = TimeSpan.FromHours(1);
    private readonly ConcurrentDictionary<string, FileUploadRecord> _uploads = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _uploadOrder = new();
    private readonly ConcurrentDictionary<string, string> _latestByBlob = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _keptBlobs = new();
    private readonly ConcurrentDictionary<string, (string Path, long StagedAtTicks)> _staged = new(StringComparer.Ordinal);
    private readonly byte[] _blobKey = RandomNumberGenerator.GetBytes(32);
    private readonly TimeProvider _time;
    private readonly int _keptBlobCount;
    private readonly int _keptRecordCount;
    private long _nextSweepTicks;

    internal FileUploads(string blobRoot, TimeProvider time, int keptBlobs = 100, int keptRecords = 10_000)
    {
        BlobRoot = blobRoot;
        StagingRoot = Path.Combine(blobRoot, ".staged");
        _time = time;
        _keptBlobCount = keptBlobs;
        _keptRecordCount = keptRecords;
    }

    /// <summary>Where uploaded blobs are stored (one file per blob).</summary>
    public string BlobRoot { get; }

    /// <summary>Blocks staged with Put Block wait here until Put Block List commits them.</summary>
    internal string StagingRoot { get; }

    /// <summary>Staged blocks not committed (yet).</summary>
    internal int StagedBlockCount => _staged.Count;

    public IReadOnlyList<FileUploadRecord> All() => [.. _uploads.Values];

    public FileUploadRecord? Find(string correlationId) => _uploads.TryGetValue(correlationId, out var r) ? r : null;

    /// <summary>Starts an upload: returns the correlation id, the blob name (prefixed with the device id) and its SAS query.</summary>
    internal (string CorrelationId, string BlobName, string SasQuery) Start(string deviceId, string blobName)
    {
        var correlationId = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('/', '_').Replace('+', '-');
        var fullName = $"{deviceId}/{blobName}";
        var expiry = (_time.GetUtcNow() + SasLifetime).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var sig = Sign(fullName, expiry);
        _uploads[correlationId] = new FileUploadRecord(correlationId, deviceId, fullName, PathFor(fullName), false, null, null, null);
        _latestByBlob[fullName] = correlationId;
        _uploadOrder.Enqueue(correlationId);
        while (_uploads.Count > _keptRecordCount && _uploadOrder.TryDequeue(out var oldest))
        {
            if (_uploads.TryRemove(oldest, out var gone))
            {
                _latestByBlob.TryRemove(new KeyValuePair<string, string>(gone.BlobName, oldest));
            }
        }

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
        if (blobName.Length == 0 || blobName.Contains("..", StringComparison.Ordinal) || blobName.Contains('\\') || Path.IsPathRooted(blobName)
            || blobName.StartsWith(".staged", StringComparison.Ordinal))
        {
            return null;
        }

        var path = PathFor(blobName);
        return path.StartsWith(Path.GetFullPath(BlobRoot) + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? path : null;
    }

    /// <summary>Streams a whole blob to its file; returns its length and digest.</summary>
    internal async Task StoreAsync(string blobName, string path, Stream body, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var (length, sha) = await CopyHashedAsync(body, path, cancellationToken).ConfigureAwait(false);
        Stored(blobName, path, length, sha);
    }

    /// <summary>Streams one staged block to its own file (replacing an earlier block with the same id).</summary>
    internal async Task StageAsync(string blobName, string blockId, Stream body, CancellationToken cancellationToken)
    {
        SweepExpiredBlocks();
        Directory.CreateDirectory(StagingRoot);
        var key = blobName + "\n" + blockId;
        var path = Path.Combine(StagingRoot, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))));
        await CopyHashedAsync(body, path, cancellationToken).ConfigureAwait(false);
        _staged[key] = (path, _time.GetUtcNow().UtcTicks);
    }

    /// <summary>Commits staged blocks in the listed order into the blob's file; false when a block is missing.</summary>
    internal async Task<bool> CommitAsync(string blobName, string path, IReadOnlyList<string> blockIds, CancellationToken cancellationToken)
    {
        var blocks = new List<(string Key, string Path)>(blockIds.Count);
        foreach (var id in blockIds)
        {
            var key = blobName + "\n" + id;
            if (!_staged.TryGetValue(key, out var block))
            {
                return false;
            }

            blocks.Add((key, block.Path));
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long length = 0;
        await using (var file = File.Create(path))
        {
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
            try
            {
                foreach (var (_, blockPath) in blocks)
                {
                    await using var block = File.OpenRead(blockPath);
                    int read;
                    while ((read = await block.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        hash.AppendData(buffer, 0, read);
                        await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        length += read;
                    }
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        foreach (var (key, blockPath) in blocks)
        {
            _staged.TryRemove(key, out _);
            TryDelete(blockPath);
        }

        Stored(blobName, path, length, Convert.ToHexStringLower(hash.GetHashAndReset()));
        return true;
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

    /// <summary>Notes length and digest on the blob's latest upload and drops the bytes of blobs beyond the newest kept ones.</summary>
    private void Stored(string blobName, string path, long length, string sha256)
    {
        if (_latestByBlob.TryGetValue(blobName, out var correlationId) && _uploads.TryGetValue(correlationId, out var record))
        {
            _uploads[correlationId] = record with { Length = length, Sha256 = sha256 };
        }

        _keptBlobs.Enqueue(path);
        while (_keptBlobs.Count > _keptBlobCount && _keptBlobs.TryDequeue(out var oldest))
        {
            if (!_keptBlobs.Contains(oldest)) // the same blob uploaded again later stays
            {
                TryDelete(oldest);
            }
        }
    }

    /// <summary>Blocks whose SAS has expired can never be committed: delete them (at most once a minute).</summary>
    private void SweepExpiredBlocks()
    {
        var now = _time.GetUtcNow().UtcTicks;
        var next = Interlocked.Read(ref _nextSweepTicks);
        if (now < next || Interlocked.CompareExchange(ref _nextSweepTicks, now + TimeSpan.TicksPerMinute, next) != next)
        {
            return;
        }

        foreach (var (key, block) in _staged)
        {
            if (now - block.StagedAtTicks > SasLifetime.Ticks && _staged.TryRemove(new KeyValuePair<string, (string, long)>(key, block)))
            {
                TryDelete(block.Path);
            }
        }
    }

    private static async Task<(long Length, string Sha256)> CopyHashedAsync(Stream body, string path, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long length = 0;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        var complete = false;
        try
        {
            await using var file = File.Create(path);
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if ((length += read) > MaxBlobBytes)
                {
                    throw new InvalidDataException($"the blob is larger than {MaxBlobBytes} bytes");
                }

                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }

            complete = true;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            if (!complete)
            {
                TryDelete(path); // a broken or oversized upload leaves nothing behind
            }
        }

        return (length, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // best effort: a blob being read right now stays until the next upload pushes it out
        }
    }

    private string PathFor(string blobName) => Path.GetFullPath(Path.Combine(BlobRoot, blobName.Replace('/', Path.DirectorySeparatorChar)));

    private string Sign(string blobName, string expiry) =>
        Convert.ToBase64String(HMACSHA256.HashData(_blobKey, Encoding.UTF8.GetBytes($"{Container}/{blobName}\n{expiry}")));
}
