using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace FleetSim.HubEmulator.Registry;

/// <summary>Outcome of a registry write, mapped by the REST layer to IoT Hub's status codes.</summary>
public enum RegistryWriteOutcome
{
    Created,
    Updated,
    /// <summary>The device exists and no If-Match was given (409 DeviceAlreadyExists).</summary>
    AlreadyExists,
    /// <summary>If-Match did not match the current etag (412 PreconditionFailed).</summary>
    PreconditionFailed,
    /// <summary>No device to update or delete (404 DeviceNotFound).</summary>
    NotFound,
}

/// <summary>
/// The hub's identity registry: device ids are case-sensitive and unique. Lookups are lock-free (one dictionary
/// read on the connect and publish paths); writes to one device are serialized on that device.
/// </summary>
public sealed class DeviceRegistry
{
    private readonly ConcurrentDictionary<string, RegisteredDevice> _devices = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private long _generation;

    internal DeviceRegistry(TimeProvider time, Func<string, DeviceIdentity, RegisteredDevice> createDevice)
    {
        _time = time;
        CreateDevice = createDevice;
    }

    internal Func<string, DeviceIdentity, RegisteredDevice> CreateDevice { get; }

    public int Count => _devices.Count;

    /// <summary>Every registered device (a moment-in-time view; safe while devices are added and removed).</summary>
    public IEnumerable<RegisteredDevice> All => _devices.Values;

    /// <summary>The registered device, or null.</summary>
    public RegisteredDevice? Find(string deviceId) => _devices.TryGetValue(deviceId, out var device) ? device : null;

    public DeviceIdentity? Get(string deviceId) => Find(deviceId)?.Identity;

    /// <summary>Registers a new symmetric-key device with generated keys; throws if the id is invalid or taken.</summary>
    public DeviceIdentity Add(string deviceId)
    {
        var (outcome, identity) = Put(new DeviceSpec(deviceId), ifMatch: null);
        return outcome == RegistryWriteOutcome.Created
            ? identity!
            : throw new InvalidOperationException($"Device '{deviceId}' is already registered.");
    }

    /// <summary>
    /// Creates the device, or updates it when <paramref name="ifMatch"/> is "*" or its current etag (IoT Hub's
    /// PUT /devices/{id} rules). Missing symmetric keys are generated. Throws <see cref="ArgumentException"/> for
    /// an invalid id, key or thumbprint.
    /// </summary>
    public (RegistryWriteOutcome Outcome, DeviceIdentity? Identity) Put(DeviceSpec spec, string? ifMatch)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!DeviceIds.IsValid(spec.DeviceId, out var idError))
        {
            throw new ArgumentException(idError, nameof(spec));
        }

        CheckCredentials(spec);
        while (true)
        {
            if (!_devices.TryGetValue(spec.DeviceId, out var existing))
            {
                var identity = Build(spec, previous: null);
                var device = CreateDevice(spec.DeviceId, identity);
                if (_devices.TryAdd(spec.DeviceId, device))
                {
                    return (RegistryWriteOutcome.Created, identity);
                }

                continue;
            }

            if (ifMatch is null)
            {
                return (RegistryWriteOutcome.AlreadyExists, existing.Identity);
            }

            lock (existing)
            {
                var current = existing.Identity;
                if (ifMatch != "*" && !ETagMatches(ifMatch, current.ETag))
                {
                    return (RegistryWriteOutcome.PreconditionFailed, current);
                }

                var updated = Build(spec, current);
                existing.Identity = updated;
                return (RegistryWriteOutcome.Updated, updated);
            }
        }
    }

    /// <summary>Removes the device (If-Match "*" or null deletes unconditionally). Its live connection is closed by the caller.</summary>
    public (RegistryWriteOutcome Outcome, RegisteredDevice? Device) Remove(string deviceId, string? ifMatch = null)
    {
        if (!_devices.TryGetValue(deviceId, out var existing))
        {
            return (RegistryWriteOutcome.NotFound, null);
        }

        if (ifMatch is not null && ifMatch != "*" && !ETagMatches(ifMatch, existing.Identity.ETag))
        {
            return (RegistryWriteOutcome.PreconditionFailed, existing);
        }

        return _devices.TryRemove(new KeyValuePair<string, RegisteredDevice>(deviceId, existing))
            ? (RegistryWriteOutcome.Updated, existing)
            : (RegistryWriteOutcome.NotFound, null);
    }

    internal static bool ETagMatches(string ifMatch, string etag) =>
        string.Equals(ifMatch.Trim().Trim('"'), etag, StringComparison.Ordinal);

    private DeviceIdentity Build(DeviceSpec spec, DeviceIdentity? previous)
    {
        string? primary = spec.PrimaryKey ?? previous?.PrimaryKey, secondary = spec.SecondaryKey ?? previous?.SecondaryKey;
        if (spec.AuthenticationType == DeviceAuthenticationType.Sas && (primary is null || secondary is null))
        {
            Span<byte> random = stackalloc byte[64]; // one call for both keys: registering a fleet makes many
            RandomNumberGenerator.Fill(random);
            primary ??= Convert.ToBase64String(random[..32]);
            secondary ??= Convert.ToBase64String(random[32..]);
        }

        var version = (previous?.Version ?? 0) + 1;
        var now = _time.GetUtcNow();
        var isSas = spec.AuthenticationType == DeviceAuthenticationType.Sas;
        var statusChanged = previous is null || previous.Enabled != spec.Enabled;
        return new DeviceIdentity(
            spec.DeviceId,
            spec.Enabled,
            spec.StatusReason,
            spec.AuthenticationType,
            isSas ? primary : null,
            isSas ? secondary : null,
            isSas ? null : spec.PrimaryThumbprint?.ToUpperInvariant(),
            isSas ? null : spec.SecondaryThumbprint?.ToUpperInvariant(),
            spec.IotEdge,
            Convert.ToBase64String(Encoding.UTF8.GetBytes(version.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            previous?.GenerationId ?? NewGenerationId(now),
            statusChanged ? now : previous!.StatusUpdatedTime,
            version);
    }

    private string NewGenerationId(DateTimeOffset now) =>
        (now.UtcTicks / 10 + Interlocked.Increment(ref _generation)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void CheckCredentials(DeviceSpec spec)
    {
        if (spec.PrimaryKey is not null && !HubEmulatorOptions.IsBase64Key(spec.PrimaryKey))
        {
            throw new ArgumentException("authentication.symmetricKey.primaryKey must be a base64 key of 16 to 64 bytes.", nameof(spec));
        }

        if (spec.SecondaryKey is not null && !HubEmulatorOptions.IsBase64Key(spec.SecondaryKey))
        {
            throw new ArgumentException("authentication.symmetricKey.secondaryKey must be a base64 key of 16 to 64 bytes.", nameof(spec));
        }

        if (spec.AuthenticationType == DeviceAuthenticationType.SelfSigned
            && string.IsNullOrEmpty(spec.PrimaryThumbprint) && string.IsNullOrEmpty(spec.SecondaryThumbprint))
        {
            throw new ArgumentException("authentication type selfSigned needs x509Thumbprint.primaryThumbprint (or secondaryThumbprint).", nameof(spec));
        }

        CheckThumbprint(spec.PrimaryThumbprint, "primaryThumbprint");
        CheckThumbprint(spec.SecondaryThumbprint, "secondaryThumbprint");
    }

    private static void CheckThumbprint(string? thumbprint, string name)
    {
        if (thumbprint is null)
        {
            return;
        }

        if (thumbprint.Length is not (40 or 64) || !thumbprint.All(char.IsAsciiHexDigit))
        {
            throw new ArgumentException($"authentication.x509Thumbprint.{name} must be 40 (SHA-1) or 64 (SHA-256) hex characters.", nameof(thumbprint));
        }
    }
}
