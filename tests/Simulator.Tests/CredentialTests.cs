using System.Text.Json.Nodes;

namespace FleetSim.Simulator.Tests;

public sealed class CredentialTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-creds-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Symmetric_key_sas_token_and_x509_devices_all_connect_send_and_renew()
    {
        var path = Path.Combine(_dir, "credentials.yaml");
        await File.WriteAllTextAsync(path, """
            name: credentials
            deviceGroups:
              - {name: keys, count: 3, idPattern: "cred-key-{index}", telemetry: {interval: 1s}}
              - {name: tokens, count: 3, idPattern: "cred-token-{index}", credential: sasToken, sasTtl: 6s, sasRenewalMargin: 2s, telemetry: {interval: 1s}}
              - {name: certs, count: 3, idPattern: "cred-x509-{index}", credential: x509, telemetry: {interval: 1s}}
            load:
              - ramp: {to: 9, over: 1s}
            duration: 10s
            thresholds:
              telemetry: ["lost == 0"]
            """);
        var outDir = Path.Combine(_dir, "out");
        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(2), _dir, "run", path, "--out", outDir, "--quiet");

        Assert.True(result.ExitCode == 0, result.All);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "report.json")))!;
        Assert.Equal(9, report["latency"]!["connect"]!["count"]!.GetValue<long>());
        Assert.Equal(0, report["latency"]!["connect"]!["failed"]!.GetValue<long>());
        // The token devices were handed tokens that expire after 6 s: each got a new one from the group's token provider.
        Assert.True(report["latency"]!["sasRenewal"]!["count"]!.GetValue<long>() >= 3);
        var telemetry = report["telemetry"]!;
        Assert.True(telemetry["ingested"]!.GetValue<long>() >= 9 * 5);
        Assert.Equal(telemetry["sent"]!.GetValue<long>(), telemetry["ingested"]!.GetValue<long>());
    }
}
