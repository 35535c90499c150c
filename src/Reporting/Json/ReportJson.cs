using System.Text.Json;
using System.Text.Json.Serialization;

using FleetSim.Metrics;

namespace FleetSim.Reporting;

/// <summary>Writes and reads report.json (camelCase, indented, nulls written so every documented path exists).</summary>
public static class ReportJson
{
    public static string Serialize(RunReport report) =>
        JsonSerializer.Serialize(report, ReportJsonContext.Default.RunReport);

    public static void Write(RunReport report, string path)
    {
        ArgumentNullException.ThrowIfNull(report);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        using var stream = File.Create(path);
        JsonSerializer.Serialize(stream, report, ReportJsonContext.Default.RunReport);
    }

    /// <summary>Reads a report; every problem (missing file, bad JSON, other schema version) is a <see cref="ReportFormatException"/>.</summary>
    public static RunReport Read(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ReportFormatException($"{path}: cannot read the report file: {e.Message}");
        }

        return Parse(json, path);
    }

    public static RunReport Parse(string json, string source = "report")
    {
        try
        {
            using (var document = JsonDocument.Parse(json))
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object
                    || !root.TryGetProperty("schemaVersion", out var versionElement)
                    || !versionElement.TryGetInt32(out var version))
                {
                    throw new ReportFormatException(
                        $"{source}: not a FleetSim report (expected a JSON object with an integer \"schemaVersion\").");
                }

                if (version != RunReport.CurrentSchemaVersion)
                {
                    var age = version > RunReport.CurrentSchemaVersion ? "a newer" : "an older";
                    throw new ReportFormatException(
                        $"{source}: report schema version {version} was written by {age} FleetSim; this FleetSim reads " +
                        $"schema version {RunReport.CurrentSchemaVersion}. Re-render it with the FleetSim that wrote it, or re-run the scenario.");
                }
            }

            var report = JsonSerializer.Deserialize(json, ReportJsonContext.Default.RunReport)
                ?? throw new ReportFormatException($"{source}: the report is empty (null).");
            // Reports written before the faults section existed have none (the generated reader leaves it null).
            return report.Faults is null ? report with { Faults = [] } : report;
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" at line {line + 1}, position {e.BytePositionInLine + 1}" : "";
            throw new ReportFormatException($"{source}: invalid report JSON{where}: {FirstSentence(e.Message)}");
        }
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }
}

/// <summary>A report file that cannot be used; the message says which file, where, and what is wrong.</summary>
public sealed class ReportFormatException(string message) : Exception(message);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    RespectRequiredConstructorParameters = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(RunReport))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;
