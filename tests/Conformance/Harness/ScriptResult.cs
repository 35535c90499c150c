using System.Text;
using System.Text.Json.Nodes;
using FleetSim.Protocol;

namespace FleetSim.Conformance.Tests.Harness;

/// <summary>What a conformance script printed (one JSON object per line, each with an "event") and how it ended.</summary>
public sealed class ScriptResult(string script, int exitCode, bool killedByHarness, IReadOnlyList<JsonObject> events, IReadOnlyList<string> otherLines, string stderr)
{
    public string Script { get; } = script;

    public int ExitCode { get; } = exitCode;

    public bool KilledByHarness { get; } = killedByHarness;

    public IReadOnlyList<JsonObject> Events { get; } = events;

    public bool Passed => ExitCode == 0 && !KilledByHarness && Events.Any(e => Name(e) == "passed");

    public IEnumerable<JsonObject> All(string eventName) => Events.Where(e => Name(e) == eventName);

    /// <summary>The one event with that name (fails the test with the whole transcript otherwise).</summary>
    public JsonObject Single(string eventName)
    {
        var matches = All(eventName).ToList();
        Assert.True(matches.Count == 1, $"expected exactly one '{eventName}' event, got {matches.Count}.\n{Describe()}");
        return matches[0];
    }

    public void AssertPassed() => Assert.True(Passed, $"{Script} did not pass.\n{Describe()}");

    /// <summary>The transcript for a failure message (the scripts redact secrets; stderr is redacted here).</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.AppendLine($"exit code {ExitCode}{(KilledByHarness ? " (killed by the harness after its deadline)" : "")}");
        foreach (var e in Events)
        {
            text.AppendLine(Redaction.Redact(e.ToJsonString()));
        }

        foreach (var line in otherLines)
        {
            text.AppendLine("stdout: " + Redaction.Redact(line));
        }

        if (stderr.Length > 0)
        {
            text.AppendLine("stderr: " + Redaction.Redact(stderr.Length > 4000 ? stderr[^4000..] : stderr));
        }

        return text.ToString();
    }

    private static string? Name(JsonObject e) => e["event"]?.GetValue<string>();
}
