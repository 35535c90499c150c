using System.Text.RegularExpressions;
using FleetSim.Protocol;
using FleetSim.Scenarios.Model;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FleetSim.Scenarios.Parsing;

/// <summary>
/// Reads a scenario file: YAML (with positions) -> --set overrides -> validation against the schema and the
/// model's rules -> <see cref="Scenario"/>, or every error at once. Never throws for bad input.
/// </summary>
public static partial class ScenarioLoader
{
    public static ScenarioLoadResult Load(string path) => Load(path, []);

    public static ScenarioLoadResult Load(string path, IReadOnlyList<string> overrides, Func<string, string?>? environment = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            var reason = e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : e.Message;
            return new ScenarioLoadResult(null, [new ScenarioError(path, 1, 1, "cannot read the scenario: " + reason)]);
        }
        return LoadFromText(text, path, overrides, environment);
    }

    /// <summary>
    /// Parses scenario text. <paramref name="fileName"/> names it in errors; <paramref name="environment"/>
    /// resolves ${VAR} (default: the process environment); <paramref name="schema"/> defaults to the embedded schema.
    /// </summary>
    public static ScenarioLoadResult LoadFromText(
        string text,
        string fileName,
        IReadOnlyList<string>? overrides = null,
        Func<string, string?>? environment = null,
        SchemaCatalog? schema = null)
    {
        var ctx = new ParseContext(fileName, text ?? "", environment ?? Environment.GetEnvironmentVariable, schema ?? SchemaCatalog.Default);
        Scenario? scenario = null;
        try
        {
            var root = ReadYaml(ctx, text ?? "");
            if (root is not null || overrides is { Count: > 0 })
            {
                root = Overrides.Apply(ctx, root ?? new YamlMappingNode(), overrides ?? []);
                if (ctx.Errors.Count == 0)
                {
                    scenario = ScenarioParser.Parse(ctx, root);
                }
            }
            else if (ctx.Errors.Count == 0)
            {
                ctx.Errors.Add(new ScenarioError(fileName, 1, 1, "the scenario is empty", "start with name:, devices: and duration: (see docs/scenarios.md)"));
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug, not bad input: still a positioned error rather than a stack trace.
            ctx.Errors.Add(new ScenarioError(fileName, 1, 1, $"internal error while reading the scenario: {e.GetType().Name}: {e.Message}"));
        }
        var errors = ctx.Errors
            .Select(e => e with { Message = Redaction.Redact(e.Message), Hint = e.Hint is null ? null : Redaction.Redact(e.Hint) })
            .OrderBy(e => e.File == fileName ? 0 : 1).ThenBy(e => e.File, StringComparer.Ordinal)
            .ThenBy(e => e.Line).ThenBy(e => e.Column)
            .Distinct()
            .ToList();
        return new ScenarioLoadResult(scenario, errors);
    }

    private static YamlNode? ReadYaml(ParseContext ctx, string text)
    {
        var stream = new YamlStream();
        var parser = new TrackingParser(new Parser(new StringReader(text)));
        try
        {
            stream.Load(parser);
        }
        catch (AnchorNotFoundException e)
        {
            ctx.ErrorAt(AliasMark(text, e), "YAML: " + CleanMessage(e), "define the anchor (&name) before using it as *name");
            return null;
        }
        catch (YamlException e)
        {
            ctx.ErrorAt(e.Start, "YAML syntax: " + CleanMessage(e), "check indentation, colons and quotes near here");
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or FormatException)
        {
            // YamlDotNet's scanner throws these on some malformed input; the last event it read is our best position.
            ctx.ErrorAt(parser.LastEnd, "YAML syntax: cannot read the text after this point", "check indentation, colons and quotes near here");
            return null;
        }
        if (stream.Documents.Count == 0)
        {
            return null;
        }
        if (stream.Documents.Count > 1)
        {
            ctx.Error(stream.Documents[1].RootNode, "a scenario file holds one YAML document; found another one here", "remove the second '---' document");
            return null;
        }
        return stream.Documents[0].RootNode;
    }

    /// <summary>Remembers where the last parsing event ended, to position errors YamlDotNet reports without a mark.</summary>
    private sealed class TrackingParser(IParser inner) : IParser
    {
        public Mark LastEnd { get; private set; } = Mark.Empty;

        public YamlDotNet.Core.Events.ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            if (inner.Current is { } current)
            {
                LastEnd = current.End;
            }
            return inner.MoveNext();
        }
    }

    /// <summary>YamlDotNet gives an unresolved alias no position: find the first use of *name ourselves.</summary>
    private static Mark AliasMark(string text, AnchorNotFoundException e)
    {
        var match = AnchorName().Match(e.Message);
        var index = match.Success ? text.IndexOf("*" + match.Groups[1].Value, StringComparison.Ordinal) : -1;
        if (index < 0 || e.Start.Line > 1 || e.Start.Column > 1)
        {
            return e.Start;
        }
        var lineStart = index == 0 ? -1 : text.LastIndexOf('\n', index - 1);
        var line = 1 + text.AsSpan(0, index).Count('\n');
        return new Mark(index, line, index - lineStart);
    }

    [GeneratedRegex("anchor '([^']+)'")]
    private static partial Regex AnchorName();

    private static string CleanMessage(YamlException e)
    {
        var message = PositionPrefix().Replace(e.Message, "");
        if (e.InnerException is { } inner && !string.IsNullOrWhiteSpace(inner.Message) && message.Length < 8)
        {
            message = inner.Message;
        }
        return message.Trim();
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\):\s*")]
    private static partial Regex PositionPrefix();
}
