using FleetSim.HubEmulator;

namespace FleetSim.Simulator.Tests;

/// <summary>
/// Secrets spelled every way the parsers accept (lower and upper case, spaces around '=', a YAML block scalar) run
/// fine, and none of them reaches the console or any file the run writes.
/// </summary>
public sealed class SecretRedactionRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-secrets-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Secrets_spelled_oddly_reach_neither_the_console_nor_any_output_file()
    {
        await using var hub = await IoTHubEmulator.StartAsync(new HubEmulatorOptions { HostName = "localhost", MqttPort = 0, HttpsPort = 0 });
        var service = FleetSim.Protocol.ServiceConnectionString.Parse(hub.ServiceConnectionString);
        const string proxySecret = "Pr0xyS3cret-in-a-block";
        await File.WriteAllTextAsync(Path.Combine(_dir, "hub-ca.pem"), hub.CaCertificatePem);
        var path = Path.Combine(_dir, "odd.yaml");
        await File.WriteAllTextAsync(path, $$"""
            name: odd-secrets
            description: every secret spelled oddly
            hub:
              connectionString: "hostname={{service.HostName}} ; sharedaccesskeyname = {{service.SharedAccessKeyName}} ; SHAREDACCESSKEY = {{service.SharedAccessKey}}"
              mqttPort: {{hub.MqttPort}}
              httpsPort: {{hub.HttpsPort}}
              trustedCa: hub-ca.pem
            deviceGroups:
              - name: direct
                count: 2
                idPrefix: direct-
                telemetry: {interval: 500ms}
              - name: proxied
                count: 1
                idPrefix: proxied-
                proxy:
                  url: http://127.0.0.1:9
                  username: someone
                  password: |
                    {{proxySecret}}
            duration: 2s
            """);
        var outDir = Path.Combine(_dir, "out");

        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(2), _dir, ["run", path, "--out", outDir, "--quiet", "--set", $"hub.connectionString=HostName={service.HostName};SharedAccessKeyName={service.SharedAccessKeyName};sharedaccesskey={service.SharedAccessKey}"], null);

        Assert.True(File.Exists(Path.Combine(outDir, "report.json")), result.All);
        Assert.Contains("odd-secrets", await File.ReadAllTextAsync(Path.Combine(outDir, "report.json")));
        // The report can reproduce the run: the command line (redacted), the effective values, the description.
        var report = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "report.json")))!;
        var commandLine = report["run"]!["commandLine"]!.GetValue<string>();
        Assert.StartsWith("fleetsim run ", commandLine);
        Assert.Contains("--set", commandLine);
        Assert.Contains("sharedaccesskey=***", commandLine);
        var effective = report["run"]!["effectiveScenario"]!.GetValue<string>();
        Assert.Contains("name: direct, count: 2", effective);
        Assert.Contains("duration: 2s", effective);
        Assert.Equal("every secret spelled oddly", report["scenario"]!["description"]!.GetValue<string>());
        var html = await File.ReadAllTextAsync(Path.Combine(outDir, "report.html"));
        Assert.Contains("How to reproduce this run", html);
        Assert.Contains("every secret spelled oddly", html);

        string[] secrets = [service.SharedAccessKey, proxySecret];
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, result.All);
            foreach (var file in Directory.GetFiles(outDir, "*", SearchOption.AllDirectories))
                Assert.DoesNotContain(secret, await File.ReadAllTextAsync(file));
        }
    }
}
