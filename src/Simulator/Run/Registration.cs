using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Running;
using FleetSim.Scenarios.Service;

namespace FleetSim.Simulator.Run;

/// <summary>How registration went so far: counted as it goes, so a progress bar and an interrupted run both see it.</summary>
public sealed class RegistrationLedger(string runId)
{
    private readonly ConcurrentQueue<string> _created = new();
    private int _reused;
    private int _done;

    /// <summary>The run's id: every device it creates carries the twin tag <c>fleetsim.run</c> = this.</summary>
    public string RunId { get; } = runId;

    /// <summary>Devices this run created (the only ones its cleanup deletes).</summary>
    public IReadOnlyCollection<string> Created => _created;

    public int Reused => Volatile.Read(ref _reused);

    /// <summary>Devices handled (created, reused or found to mismatch).</summary>
    public int Done => Volatile.Read(ref _done);

    public int Total { get; internal set; }

    internal void AddCreated(string id)
    {
        _created.Enqueue(id);
        Interlocked.Increment(ref _done);
    }

    internal void AddReused()
    {
        Interlocked.Increment(ref _reused);
        Interlocked.Increment(ref _done);
    }

    internal void AddDone() => Interlocked.Increment(ref _done);
}

/// <summary>Registration failed for named devices (credentials that do not match, the hub's per-device errors).</summary>
public sealed class RegistrationException(string message) : InvalidOperationException(message);

/// <summary>
/// Creates every device identity of the scenario through the registry's bulk API (<c>POST /devices</c>, 100 devices a
/// call, importMode create), the same code for the embedded and a real hub, paced by the hub client's registry pacing.
/// FleetSim supplies the credentials: a random symmetric key per device (kept for the run, never logged), or an X.509
/// certificate made here (or the device's own, from the scenario's certificates folder) registered by thumbprint.
/// Every created device is tagged <c>tags.fleetsim.run = RunId</c>, so <c>fleetsim cleanup --run</c> finds what an
/// interrupted run left. A device that already exists is read back and reused when its credentials fit (a symmetric-key
/// device's keys are taken over; an X.509 device must have the certificate's thumbprint; a device given by connection
/// string must have its key); otherwise registration fails naming the devices. Existing devices are never changed.
/// Devices given by connection strings already exist on a real hub and keep their keys; the embedded hub, which starts
/// empty, gets them registered with those keys.
/// </summary>
public static class Registration
{
    public const int Concurrency = 32;

    /// <summary>Bulk calls in flight at once (with pacing they follow one another at the tier's rate anyway).</summary>
    public const int BulkConcurrency = 4;

    /// <summary>The twin tag (tags.fleetsim.run) that marks a device as created by a run.</summary>
    public const string RunTag = "run";
    public const string TagRoot = "fleetsim";

    private sealed record Work(int Group, int Index, string DeviceId);

    public static async Task<GroupCredentials[]> RegisterAsync(HubServiceClient service, Scenario scenario, string hubHostName, bool embeddedHub,
        RegistrationLedger ledger, CancellationToken ct)
    {
        var credentials = new GroupCredentials[scenario.DeviceGroups.Count];
        var work = new List<Work>(scenario.TotalDevices);
        for (var g = 0; g < scenario.DeviceGroups.Count; g++)
        {
            var group = scenario.DeviceGroups[g];
            if (group.ConnectionStrings is { } listed)
            {
                if (!embeddedHub && !string.Equals(listed.Entries[0].HostName, hubHostName, StringComparison.OrdinalIgnoreCase))
                    throw new InvalidOperationException($"group '{group.Name}': {listed.Path} names hub '{listed.Entries[0].HostName}', but the run's hub is '{hubHostName}'");
                credentials[g] = listed.UsesX509
                    ? new GroupCredentials(null, new X509Certificate2[group.Count])
                    : new GroupCredentials([.. listed.Entries.Take(group.Count).Select(e => e.SharedAccessKey!)], null);
                if (!embeddedHub)
                {
                    // They exist already: "create from connection string" registers nothing (X.509 ones only load their certificates).
                    if (credentials[g].Certificates is { } own)
                    {
                        for (var i = 0; i < group.Count; i++)
                            own[i] = group.Certificates!.Load(group.DeviceId(i));
                    }

                    continue;
                }
            }
            else
            {
                var x509 = group.Credential == CredentialKind.X509;
                credentials[g] = new GroupCredentials(x509 ? null : new string[group.Count], x509 ? new X509Certificate2[group.Count] : null);
            }

            for (var i = 0; i < group.Count; i++)
                work.Add(new Work(g, i, group.DeviceId(i)));
        }

        ledger.Total = work.Count;
        var existing = new ConcurrentBag<Work>();
        var failures = new ConcurrentQueue<string>();
        var batches = work.Chunk(HubServiceClient.MaxBulkDevices).ToList();
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = BulkConcurrency, CancellationToken = ct }, async (batch, token) =>
        {
            var operations = new List<JsonObject>(batch.Length);
            foreach (var item in batch)
                operations.Add(CreateOperation(scenario, credentials, item, ledger.RunId));
            // A call once sent is seen through even on Ctrl+C (the token stops the next batches only), so the ledger knows
            // every device the hub created: an interrupted run deletes exactly those and leaves nothing unaccounted.
            var errors = (await service.BulkAsync(operations, CancellationToken.None)).ToDictionary(e => e.DeviceId, StringComparer.Ordinal);
            foreach (var item in batch)
            {
                if (!errors.TryGetValue(item.DeviceId, out var error))
                {
                    ledger.AddCreated(item.DeviceId);
                }
                else if (error.ErrorCode == "DeviceAlreadyExists")
                {
                    existing.Add(item);
                }
                else
                {
                    failures.Enqueue($"device '{item.DeviceId}': the hub refused it ({error.ErrorCode}: {error.ErrorStatus})");
                    ledger.AddDone();
                }
            }
        });

        // Devices that were there before the run: one registry read each, to check their credentials fit.
        await Parallel.ForEachAsync(existing, new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = ct }, async (item, token) =>
        {
            var device = await service.GetDeviceJsonAsync(item.DeviceId, token);
            var mismatch = device is null
                ? $"device '{item.DeviceId}' was reported as existing but is gone"
                : Reuse(scenario, credentials, item, device);
            if (mismatch is null)
            {
                ledger.AddReused();
            }
            else
            {
                failures.Enqueue(mismatch);
                ledger.AddDone();
            }
        });

        if (!failures.IsEmpty)
        {
            var list = failures.Order(StringComparer.Ordinal).ToList();
            var shown = string.Join("; ", list.Take(5));
            throw new RegistrationException(
                $"{list.Count} device{(list.Count == 1 ? "" : "s")} could not be registered: {shown}{(list.Count > 5 ? $"; and {list.Count - 5} more" : "")}. "
                + "Existing devices are never changed: delete them (fleetsim cleanup for devices a run created) or use other device ids");
        }

        return credentials;
    }

    /// <summary>The ExportImportDevice that creates this device with its credential, tagged with the run.</summary>
    private static JsonObject CreateOperation(Scenario scenario, GroupCredentials[] credentials, Work item, string runId)
    {
        var group = scenario.DeviceGroups[item.Group];
        var creds = credentials[item.Group];
        JsonObject authentication;
        if (creds.Certificates is { } certificates)
        {
            // The devices' own certificates when the scenario names a folder, else one made here; either way the hub
            // knows the device by its certificate's thumbprint.
            var certificate = group.Certificates is { } folder ? folder.Load(item.DeviceId) : CreateDeviceCertificate(item.DeviceId);
            certificates[item.Index] = certificate;
            authentication = new JsonObject
            {
                ["type"] = "selfSigned",
                ["x509Thumbprint"] = new JsonObject { ["primaryThumbprint"] = certificate.Thumbprint, ["secondaryThumbprint"] = certificate.Thumbprint },
            };
        }
        else
        {
            var key = group.ConnectionStrings is not null ? creds.Keys![item.Index] : (creds.Keys![item.Index] = NewKey());
            authentication = new JsonObject
            {
                ["type"] = "sas",
                ["symmetricKey"] = new JsonObject { ["primaryKey"] = key, ["secondaryKey"] = NewKey() },
            };
        }

        return new JsonObject
        {
            ["id"] = item.DeviceId,
            ["importMode"] = "create",
            ["status"] = "enabled",
            ["authentication"] = authentication,
            ["capabilities"] = new JsonObject { ["iotEdge"] = false },
            ["tags"] = new JsonObject { [TagRoot] = new JsonObject { [RunTag] = runId } },
        };
    }

    /// <summary>Null when the existing device can be used as this scenario device (taking over its key where the hub chose it), else why not.</summary>
    private static string? Reuse(Scenario scenario, GroupCredentials[] credentials, Work item, JsonObject device)
    {
        var group = scenario.DeviceGroups[item.Group];
        var creds = credentials[item.Group];
        var auth = device["authentication"] as JsonObject;
        var type = auth?["type"]?.GetValue<string>() ?? "sas";
        if (creds.Certificates is { } certificates)
        {
            var thumbprint = certificates[item.Index].Thumbprint;
            if (type == "sas")
                return $"device '{item.DeviceId}' exists on the hub with symmetric keys, but group '{group.Name}' authenticates by X.509 certificate";
            var registered = new[] { auth?["x509Thumbprint"]?["primaryThumbprint"]?.GetValue<string>(), auth?["x509Thumbprint"]?["secondaryThumbprint"]?.GetValue<string>() };
            if (type == "selfSigned" && !registered.Any(t => string.Equals(t, thumbprint, StringComparison.OrdinalIgnoreCase)))
                return $"device '{item.DeviceId}' exists on the hub with certificate thumbprint {registered.FirstOrDefault(t => t is not null) ?? "(none)"}, not {thumbprint} of the certificate the run uses";
            return null;
        }

        if (type != "sas")
            return $"device '{item.DeviceId}' exists on the hub as an X.509 device ({type}), but group '{group.Name}' uses symmetric keys";
        var primary = auth?["symmetricKey"]?["primaryKey"]?.GetValue<string>();
        if (group.ConnectionStrings is not null)
        {
            var given = creds.Keys![item.Index];
            return primary == given || auth?["symmetricKey"]?["secondaryKey"]?.GetValue<string>() == given
                ? null
                : $"device '{item.DeviceId}' exists on the hub with another key than its connection string's";
        }

        if (primary is null)
            return $"the hub returned device '{item.DeviceId}' without a symmetric key";
        creds.Keys![item.Index] = primary;
        return null;
    }

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>A self-signed client certificate (ECDSA P-256, client-authentication usage, CN = device id) with its private key.</summary>
    private static X509Certificate2 CreateDeviceCertificate(string deviceId)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={deviceId}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        // Through PKCS#12 so the key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }
}
