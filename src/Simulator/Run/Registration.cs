using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Running;
using FleetSim.Scenarios.Service;

namespace FleetSim.Simulator.Run;

/// <summary>
/// Creates (or finds) every device identity of the scenario through the hub's registry REST API, a bounded number
/// of requests at a time: symmetric-key devices get the hub's generated keys (kept for the run, never logged);
/// X.509 devices get a self-signed certificate made here (or their own, from the scenario's certificates folder),
/// registered by thumbprint, as a real fleet would.
/// Devices given by connection strings already exist on a real hub and keep their keys; the embedded hub, which
/// starts empty, gets them registered with those keys.
/// </summary>
public static class Registration
{
    public const int Concurrency = 32;

    public static async Task<GroupCredentials[]> RegisterAsync(HubServiceClient service, Scenario scenario, string hubHostName, bool embeddedHub, CancellationToken ct)
    {
        var credentials = new GroupCredentials[scenario.DeviceGroups.Count];
        var work = new List<(int Group, int Index)>(scenario.TotalDevices);
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

                for (var i = 0; i < group.Count; i++)
                    work.Add((g, i));
                continue;
            }

            var x509 = group.Credential == CredentialKind.X509;
            credentials[g] = new GroupCredentials(x509 ? null : new string[group.Count], x509 ? new X509Certificate2[group.Count] : null);
            for (var i = 0; i < group.Count; i++)
                work.Add((g, i));
        }

        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = ct }, async (item, token) =>
        {
            var id = scenario.DeviceGroups[item.Group].DeviceId(item.Index);
            var creds = credentials[item.Group];
            if (creds.Certificates is { } certificates)
            {
                // The devices' own certificates when the scenario names a folder, else one made here; either way the hub
                // knows the device by its certificate's thumbprint.
                var certificate = scenario.DeviceGroups[item.Group].Certificates is { } folder ? folder.Load(id) : CreateDeviceCertificate(id);
                certificates[item.Index] = certificate;
                await service.CreateOrGetDeviceAsync(id, token, certificate.Thumbprint);
                return;
            }

            if (scenario.DeviceGroups[item.Group].ConnectionStrings is not null)
            {
                var given = creds.Keys![item.Index];
                var registered = await service.CreateOrGetDeviceAsync(id, token, primaryKey: given);
                if (registered.PrimaryKey != given)
                    throw new InvalidOperationException($"device '{id}' exists on the hub with another key than its connection string's");
                return;
            }

            var device = await service.CreateOrGetDeviceAsync(id, token);
            creds.Keys![item.Index] = device.PrimaryKey
                ?? throw new InvalidOperationException($"the hub returned device '{id}' without a symmetric key (is it registered as an X.509 device?)");
        });
        return credentials;
    }

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
