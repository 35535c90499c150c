using System.Text.Json;
using System.Text.Json.Nodes;
using FleetSim.HubEmulator;
using FleetSim.HubEmulator.Throttling;
using FleetSim.Protocol;
using FleetSim.Protocol.Tiers;
using FleetSim.Scenarios.Load;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Parsing;
using FleetSim.Scenarios.Service;
using FleetSim.Simulator.Run;

namespace FleetSim.Simulator.Tests;

/// <summary>
/// Issue 14 against the emulator shaped like a real hub: bulk registration within the S1 registry throttle, reuse and
/// refusal of existing devices, cleanup of exactly a run's devices, the dry run, and bad tiers.
/// </summary>
public sealed class RealHubTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-realhub-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Registering_2000_devices_on_one_S1_unit_takes_20_bulk_calls_and_never_meets_the_registry_throttle()
    {
        var s1 = HubTier.Create("S1");
        await using var hub = await IoTHubEmulator.StartAsync(new HubEmulatorOptions { MqttPort = 0, HttpsPort = 0, Quotas = ThrottlingQuotas.ForTier(s1) });
        using var service = Service(hub);
        service.RegistryPacing = new RegistryPacer(s1.RegistryOperationsPerSecond * PacingLimits.Headroom);
        var scenario = Scenario("""
            name: s1
            deviceGroups:
              - {name: keys, count: 1950, idPrefix: s1-key-}
              - {name: certs, count: 50, idPrefix: s1-x509-, credential: x509}
            duration: 1s
            """);
        var ledger = new RegistrationLedger("run-test-s1");

        var credentials = await Registration.RegisterAsync(service, scenario, hub.HostName, embeddedHub: true, ledger, CancellationToken.None);

        Assert.Equal(2000, ledger.Created.Count);
        Assert.Equal(2000, hub.Registry.Count);
        var stats = hub.Stats();
        Assert.Equal(20, stats.RegistryOperations); // one registry operation per bulk call of 100
        Assert.Equal(0, stats.ThrottledRegistryOperations); // paced: the hub never had to refuse one
        Assert.Equal(0, service.ThrottledResponses);
        Assert.Equal(hub.Registry.Get("s1-key-0")!.PrimaryKey, credentials[0].Keys![0]);
        Assert.Equal(credentials[1].Certificates![49].Thumbprint, hub.Registry.Get("s1-x509-49")!.PrimaryThumbprint);
        Assert.Equal("run-test-s1", (string?)hub.Registry.Find("s1-x509-49")!.Twin.ServiceTags()["fleetsim"]!["run"]);
    }

    [Fact]
    public async Task An_existing_key_device_is_reused_and_an_existing_x509_device_with_another_thumbprint_fails_by_name()
    {
        await using var hub = await IoTHubEmulator.StartAsync(new HubEmulatorOptions { MqttPort = 0, HttpsPort = 0 });
        using var service = Service(hub);
        var existingKey = hub.Registry.Add("old-key-0");
        hub.Registry.Put(new HubEmulator.Registry.DeviceSpec("old-x509-0", AuthenticationType: HubEmulator.Registry.DeviceAuthenticationType.SelfSigned,
            PrimaryThumbprint: new string('A', 40)), ifMatch: null);
        var scenario = Scenario("""
            name: existing
            deviceGroups:
              - {name: keys, count: 2, idPrefix: old-key-}
              - {name: certs, count: 2, idPrefix: old-x509-, credential: x509}
            duration: 1s
            """);
        var ledger = new RegistrationLedger("run-test-existing");

        var error = await Assert.ThrowsAsync<RegistrationException>(() =>
            Registration.RegisterAsync(service, scenario, hub.HostName, embeddedHub: false, ledger, CancellationToken.None));

        Assert.Contains("device 'old-x509-0' exists on the hub with certificate thumbprint AAAA", error.Message);
        Assert.Contains("1 device could not be registered", error.Message);
        Assert.Equal(["old-key-1", "old-x509-1"], ledger.Created.Order(StringComparer.Ordinal));
        Assert.Equal(1, ledger.Reused);
        Assert.Equal(existingKey, hub.Registry.Get("old-key-0")); // existing devices are never changed
        Assert.Equal(new string('A', 40), hub.Registry.Get("old-x509-0")!.PrimaryThumbprint);
    }

    [Fact]
    public async Task Cleanup_deletes_exactly_the_devices_of_the_run_and_none_created_outside_it()
    {
        await using var hub = await IoTHubEmulator.StartAsync(new HubEmulatorOptions { MqttPort = 0, HttpsPort = 0 });
        using var service = Service(hub);
        hub.Registry.Add("c-foreign"); // same prefix, created by someone else
        await service.BulkAsync([new JsonObject { ["id"] = "c-other-run", ["importMode"] = "create", ["tags"] = new JsonObject { ["fleetsim"] = new JsonObject { ["run"] = "run-b" } } }], CancellationToken.None);
        var ledger = new RegistrationLedger("run-a");
        await Registration.RegisterAsync(service, Scenario("""
            name: cleanup
            devices: {count: 150, idPrefix: c-a-}
            duration: 1s
            """), hub.HostName, embeddedHub: false, ledger, CancellationToken.None);
        var statePath = await WriteStateFileAsync(hub);

        var dryRun = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "cleanup", "--hub-state", statePath, "--run", "run-a", "--dry-run");
        Assert.True(dryRun.ExitCode == 0, dryRun.All);
        Assert.Contains("150 devices of run run-a would be deleted", dryRun.Stdout);
        Assert.Equal(152, hub.Registry.Count);

        var byRun = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "cleanup", "--hub-state", statePath, "--run", "run-a");
        Assert.True(byRun.ExitCode == 0, byRun.All);
        Assert.Contains("deleted 150 devices of run run-a", byRun.Stdout);
        Assert.Equal(["c-foreign", "c-other-run"], hub.Registry.All.Select(d => d.DeviceId).Order(StringComparer.Ordinal));

        var byPrefix = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "cleanup", "--hub-state", statePath, "--prefix", "c-");
        Assert.True(byPrefix.ExitCode == 0, byPrefix.All);
        Assert.Equal(["c-foreign"], hub.Registry.All.Select(d => d.DeviceId)); // a prefix never selects a device no run created
    }

    [Fact]
    public async Task A_dry_run_prints_the_plan_and_the_tier_warnings_and_sends_the_hub_nothing()
    {
        await using var hub = await IoTHubEmulator.StartAsync(new HubEmulatorOptions { MqttPort = 0, HttpsPort = 0 });
        var statePath = await WriteStateFileAsync(hub);
        var scenario = Path.Combine(_dir, "big.yaml");
        await File.WriteAllTextAsync(scenario, """
            name: big
            devices: {count: 20000, idPrefix: big-}
            telemetry: {interval: 1s}
            load:
              - ramp: {to: 20000, over: 4s}
            duration: 1m
            """);

        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "run", scenario, "--hub-state", statePath, "--tier", "S1", "--dry-run", "--no-pace");

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("20,000 devices in 200 bulk calls of up to 100", result.Stdout);
        Assert.Contains("tier S1 x 1", result.Stdout);
        Assert.Contains("warning: the load phases connect devices 5000/s at the peak, more than S1 x 1's 100 new connections/s", result.Stdout);
        Assert.Contains("at least 3.3 min", result.Stdout);
        Assert.Contains("more than S1 x 1's daily quota of 400,000", result.Stdout);
        var stats = hub.Stats();
        Assert.Equal(0, hub.Registry.Count);
        Assert.Equal(0, stats.RegistryOperations);
        Assert.Equal(0, stats.ConnectsAccepted + stats.ConnectsRefused);
    }

    [Fact]
    public async Task Ctrl_c_during_registration_stops_it_and_deletes_exactly_the_devices_the_run_created()
    {
        var s1 = HubTier.Create("S1");
        await using var hub = await IoTHubEmulator.StartAsync(new HubEmulatorOptions { MqttPort = 0, HttpsPort = 0, Quotas = ThrottlingQuotas.ForTier(s1) });
        hub.Registry.Add("ctrl-c-0"); // there before the run: reused, never deleted
        var statePath = await WriteStateFileAsync(hub);
        var scenario = Path.Combine(_dir, "interrupted.yaml");
        await File.WriteAllTextAsync(scenario, "name: interrupted\ndevices: {count: 3000, idPrefix: ctrl-c-}\nduration: 10s\n");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _dir };
        foreach (var a in new[] { Fleetsim.Dll, "run", scenario, "--hub-state", statePath, "--tier", "S1", "--out", Path.Combine(_dir, "out") })
            start.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();

        // Interrupt once a few bulk calls went through (30 are needed at S1's pace).
        await Poll.UntilAsync(() => hub.Registry.Count >= 301, "registration under way (301 devices)", TimeSpan.FromMinutes(1),
            gaveUp: () => process.HasExited ? $"the run exited with {process.ExitCode}" : null);
        using (var kill = System.Diagnostics.Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(cts.Token);

        var output = await stdout;
        Assert.True(process.ExitCode == 3, output + await stderr);
        Assert.Contains("cancelled", output);
        Assert.Contains("devices this run created ...", output);
        Assert.Equal(["ctrl-c-0"], hub.Registry.All.Select(d => d.DeviceId)); // created ones all gone, the existing one kept
        Assert.True(hub.Stats().RegistryOperations < 30 + 30, "registration stopped early");
    }

    [Theory]
    [InlineData("--tier", "S9", "--tier: unknown IoT Hub tier 'S9': expected one of F1, B1, B2, B3, S1, S2, S3")]
    [InlineData("--tier", "S3", "--units", "11", "--tier: S3 hubs have 1 to 10 units, not 11")]
    [InlineData("--units", "2", "--units needs --tier")]
    public async Task Bad_tiers_on_the_command_line_exit_2_with_a_clear_message(params string[] args)
    {
        var scenario = Path.Combine(_dir, "small.yaml");
        await File.WriteAllTextAsync(scenario, "name: small\ndevices: {count: 1}\nduration: 1s\n");

        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, ["run", scenario, "--dry-run", .. args[..^1]], null);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(args[^1], result.Stderr);
        Assert.DoesNotContain("   at ", result.All);
    }

    [Fact]
    public async Task A_bad_tier_in_a_scenario_exits_2_at_its_line_and_column()
    {
        var scenario = Path.Combine(_dir, "tier.yaml");
        await File.WriteAllTextAsync(scenario, "name: tier\nhub:\n  embedded:\n    tier: X1\ndevices: {count: 1}\nduration: 1s\n");

        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "validate", scenario);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("tier.yaml:4:11", result.All);
        Assert.Contains("unknown IoT Hub tier 'X1'", result.All);
    }

    private static HubServiceClient Service(IoTHubEmulator hub) =>
        new(ServiceConnectionString.Parse(hub.ServiceConnectionString),
            new HubEndpoint(new UriBuilder("https", "127.0.0.1", hub.HttpsPort).Uri, System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(hub.CaCertificatePem)));

    private static Scenario Scenario(string yaml)
    {
        var loaded = ScenarioLoader.LoadFromText(yaml, "test.yaml");
        return loaded.Scenario ?? throw new InvalidOperationException(string.Join("; ", loaded.Errors));
    }

    private async Task<string> WriteStateFileAsync(IoTHubEmulator hub)
    {
        var path = Path.Combine(_dir, "state.json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["serviceConnectionString"] = hub.ServiceConnectionString,
            ["caCertificatePath"] = hub.CaCertificatePath,
            ["mqttPort"] = hub.MqttPort,
            ["httpsPort"] = hub.HttpsPort,
        }));
        return path;
    }
}
