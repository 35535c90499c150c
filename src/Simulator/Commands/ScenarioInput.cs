using System.Text.RegularExpressions;
using FleetSim.Protocol;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Parsing;

namespace FleetSim.Simulator.Commands;

/// <summary>A scenario as the commands use it: loaded with overrides and scale, its errors, and its text with secrets redacted.</summary>
public sealed partial record ScenarioInput(Scenario? Scenario, IReadOnlyList<ScenarioError> Errors, string RedactedText)
{
    public static ScenarioInput Load(string path, IReadOnlyList<string> overrides, double? scale)
    {
        var result = ScenarioLoader.Load(path, overrides);
        var text = File.Exists(path) ? File.ReadAllText(path) : "";
        if (result.Scenario is null)
            return new ScenarioInput(null, result.Errors, "");
        var scenario = result.Scenario;
        if (scale is { } factor)
        {
            if (!(factor > 0) || double.IsInfinity(factor))
                return new ScenarioInput(null, [new ScenarioError("--scale", 1, 1, $"the scale must be a positive number (found {factor})", "for example --scale 0.1")], "");
            scenario = scenario.Scale(factor);
        }

        return new ScenarioInput(scenario, [], Redaction.Redact(text));
    }

    /// <summary>Prints every error (file:line:column: error: message (hint)) and returns the bad-input exit code.</summary>
    public static int PrintErrors(ScenarioInput input)
    {
        foreach (var error in input.Errors)
            Console.Error.WriteLine(Redaction.Redact(error.ToString()));
        Console.Error.WriteLine($"{input.Errors.Count} error{(input.Errors.Count == 1 ? "" : "s")}");
        return ExitCodes.BadInput;
    }

    /// <summary>${VAR} in a command-line value, from the environment (unknown variables stay as written).</summary>
    public static string Interpolate(string value) =>
        EnvVar().Replace(value, m => Environment.GetEnvironmentVariable(m.Groups[1].Value) ?? m.Value);

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex EnvVar();
}
