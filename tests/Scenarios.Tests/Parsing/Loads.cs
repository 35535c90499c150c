using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Parsing;

namespace FleetSim.Scenarios.Tests.Parsing;

/// <summary>Test helpers: load text with a fixed environment, and find the repository's scenarios folder.</summary>
internal static class Loads
{
    public static readonly Dictionary<string, string> Environment = new()
    {
        ["FLEETSIM_TEST_HUB"] = "HostName=test.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=c2VjcmV0a2V5c2VjcmV0a2V5",
        ["FLEETSIM_TEST_COUNT"] = "7",
    };

    public static ScenarioLoadResult Text(string yaml, params string[] overrides) =>
        ScenarioLoader.LoadFromText(yaml, "test.yaml", overrides, name => Environment.GetValueOrDefault(name));

    public static Scenario Ok(string yaml, params string[] overrides)
    {
        var result = Text(yaml, overrides);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        return result.Scenario!;
    }

    /// <summary>The errors of a scenario that must fail; asserts each is positioned.</summary>
    public static IReadOnlyList<ScenarioError> Errors(string yaml, params string[] overrides)
    {
        var result = Text(yaml, overrides);
        Assert.False(result.Success, "expected errors, the scenario loaded");
        Assert.NotEmpty(result.Errors);
        foreach (var error in result.Errors)
        {
            Assert.True(error.Line >= 1 && error.Column >= 1, error.ToString());
            Assert.DoesNotContain("internal error", error.Message, StringComparison.Ordinal);
        }
        return result.Errors;
    }

    /// <summary>The single error of a scenario that must fail with exactly one.</summary>
    public static ScenarioError One(string yaml, params string[] overrides)
    {
        var errors = Errors(yaml, overrides);
        Assert.True(errors.Count == 1, "expected one error, found:\n" + string.Join("\n", errors));
        return errors[0];
    }

    public static string ScenariosFolder
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "scenarios", "fleetsim.schema.json")))
            {
                dir = dir.Parent;
            }
            return dir is null ? throw new InvalidOperationException("scenarios/ not found above the test folder") : Path.Combine(dir.FullName, "scenarios");
        }
    }

    public const string Minimal = """
        name: minimal
        devices: {count: 10}
        duration: 10s
        """;
}
