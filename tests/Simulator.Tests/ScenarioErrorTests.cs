namespace FleetSim.Simulator.Tests;

public sealed class ScenarioErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Malformed_scenario_exits_2_with_file_line_column_and_no_stack_trace()
    {
        var path = Path.Combine(_dir, "bad.yaml");
        await File.WriteAllTextAsync(path, "name: bad\ndevices:\n  count: many\n  idPrefix: d-\nduration: 10s\ncolour: blue\n");

        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "run", path);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("bad.yaml:3:10", result.Stderr); // count: many
        Assert.Contains("bad.yaml:6:1", result.Stderr);  // unknown key colour
        Assert.DoesNotContain("   at ", result.All);
        Assert.DoesNotContain("Exception", result.All);
        Assert.False(Directory.Exists(Path.Combine(_dir, "reports")), "no report for a scenario that never ran");
    }

    [Fact]
    public async Task Validate_reports_ok_for_a_good_scenario_and_every_error_for_a_bad_one()
    {
        var good = Path.Combine(Fleetsim.RepoRoot, "scenarios", "quickstart.yaml");
        var ok = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "validate", good);
        Assert.Equal(0, ok.ExitCode);
        Assert.Contains("ok", ok.Stdout);

        var path = Path.Combine(_dir, "two.yaml");
        await File.WriteAllTextAsync(path, "name: two\ndevices: {count: -1, idPrefix: d-}\nduration: soon\n");
        var bad = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "validate", path);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("two.yaml:2:", bad.Stderr);
        Assert.Contains("two.yaml:3:", bad.Stderr);
    }

    [Fact]
    public async Task Validate_applies_scale_and_duration_as_run_does()
    {
        var good = Path.Combine(Fleetsim.RepoRoot, "scenarios", "quickstart.yaml");
        var scaled = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "validate", good, "--scale", "0.2", "--duration", "6s");
        Assert.Equal(0, scaled.ExitCode);
        Assert.Contains("20 devices", scaled.Stdout); // quickstart has 100

        var badScale = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "validate", good, "--scale", "0");
        Assert.Equal(2, badScale.ExitCode);
        Assert.Contains("--scale", badScale.Stderr);
        var badDuration = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "validate", good, "--duration", "soon");
        Assert.Equal(2, badDuration.ExitCode);
        Assert.Contains("duration", badDuration.Stderr);
        Assert.DoesNotContain("   at ", badScale.All + badDuration.All);
    }

    [Fact]
    public async Task Missing_scenario_file_is_bad_input()
    {
        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "run", Path.Combine(_dir, "nope.yaml"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("nope.yaml", result.Stderr);
        Assert.DoesNotContain("   at ", result.All);
    }

    [Fact]
    public async Task A_bad_hub_connection_string_is_bad_input_and_its_key_is_not_echoed()
    {
        var good = Path.Combine(Fleetsim.RepoRoot, "scenarios", "quickstart.yaml");
        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "run", good, "--hub", "HostName=h;SharedAccessKey=c2VjcmV0c2VjcmV0");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("SharedAccessKeyName", result.Stderr);
        Assert.DoesNotContain("c2VjcmV0c2VjcmV0", result.All);
    }
}
