using FleetSim.Conformance.Tests.Harness;

namespace FleetSim.Conformance.Tests.Cases;

[Collection(ConformanceCollection.Name)]
public sealed class ReadmeExampleTests(ConformanceFixture fixture)
{
    [Fact]
    public async Task The_readme_example_registers_a_device_sends_telemetry_and_reports_a_property_from_the_state_file()
    {
        // The README's device.js reads the state file `fleetsim hub` wrote; it adds GatewayHostName itself when MQTT
        // is not on 8883, and its HTTPS goes to 443 (mapped to the free HTTPS port here, see lib/port-map.js).
        var env = fixture.Environment();
        var before = await HubAssert.StatsAsync(fixture);

        var result = await fixture.RunAsync("readme-device.js", env, TimeSpan.FromSeconds(30), fixture.Hub.StateFile);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Contains("telemetry sent; the service sees reported firmware 1.0.0 ($version 2)", result.Describe());
        await HubAssert.StatsChangedAsync(fixture, before,
            StatChange.Exactly("devicesRegistered", 1), StatChange.Exactly("ingested", 1), StatChange.Exactly("twin.reportedPatches", 1));
    }

    [Fact]
    public void The_readme_shows_exactly_the_script_this_suite_runs()
    {
        var root = Path.GetDirectoryName(fixture.NodeDirectory)!;
        while (!File.Exists(Path.Combine(root, "README.md")))
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("README.md not found");
        var readme = File.ReadAllText(Path.Combine(root, "README.md")).Replace("\r\n", "\n");
        const string open = "cat > device.js <<'EOF'\n";
        var start = readme.IndexOf(open, StringComparison.Ordinal);
        Assert.True(start >= 0, "the README has no device.js example");
        start += open.Length;
        var shown = readme[start..readme.IndexOf("\nEOF\n", start, StringComparison.Ordinal)];

        var script = File.ReadAllText(Path.Combine(fixture.NodeDirectory, "readme-device.js")).Replace("\r\n", "\n");
        var withoutComment = script[(script.IndexOf('\n') + 1)..].TrimEnd('\n');
        Assert.Equal(withoutComment, shown);
    }
}
