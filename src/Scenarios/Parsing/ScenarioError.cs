using FleetSim.Scenarios.Model;

namespace FleetSim.Scenarios.Parsing;

/// <summary>
/// One problem in a scenario, where it is and what to do: formatted <c>file:line:col: error: message (hint)</c>.
/// Lines and columns start at 1. For a <c>--set</c> override, File names the override.
/// </summary>
public sealed record ScenarioError(string File, int Line, int Column, string Message, string? Hint = null)
{
    public override string ToString() =>
        Hint is null ? $"{File}:{Line}:{Column}: error: {Message}" : $"{File}:{Line}:{Column}: error: {Message} ({Hint})";
}

/// <summary>Either a valid scenario or every error found (never both).</summary>
public sealed class ScenarioLoadResult
{
    internal ScenarioLoadResult(Scenario? scenario, IReadOnlyList<ScenarioError> errors)
    {
        Scenario = errors.Count == 0 ? scenario : null;
        Errors = errors;
    }

    public Scenario? Scenario { get; }

    public IReadOnlyList<ScenarioError> Errors { get; }

    public bool Success => Scenario is not null;

    /// <summary>The scenario, or <see cref="ScenarioException"/> carrying the errors.</summary>
    public Scenario GetOrThrow() => Scenario ?? throw new ScenarioException(Errors);
}

/// <summary>Thrown only by <see cref="ScenarioLoadResult.GetOrThrow"/>; the message lists every error.</summary>
public sealed class ScenarioException(IReadOnlyList<ScenarioError> errors)
    : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<ScenarioError> Errors { get; } = errors;
}
