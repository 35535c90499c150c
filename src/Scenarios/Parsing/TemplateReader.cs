using System.Globalization;
using System.Text;
using FleetSim.Scenarios.Templates;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FleetSim.Scenarios.Parsing;

internal enum TemplateKind
{
    /// <summary>Any text (C2D bodies, property values, non-JSON telemetry).</summary>
    Text,

    /// <summary>Must render to JSON.</summary>
    Json,

    /// <summary>Must render to a JSON object (twin patches).</summary>
    JsonObject,
}

/// <summary>
/// Compiles a template written as a string, or as a YAML mapping/list (converted to JSON), mapping every
/// template error back to the line and column of the YAML text it came from.
/// </summary>
internal static class TemplateReader
{
    private const int MaxDepth = 32;
    private const int MaxLength = FleetSim.Protocol.MessageLimits.MaxMessageBytes;

    public static PayloadTemplate? Read(ParseContext ctx, YamlNode node, TemplateKind kind, string what)
    {
        string source;
        List<(int Offset, YamlNode Node)> map = [];
        if (node is YamlMappingNode or YamlSequenceNode)
        {
            if (kind == TemplateKind.Text)
            {
                ctx.Error(node, $"{what}: expected text, found {ParseContext.Describe(node)}");
                return null;
            }
            var json = new StringBuilder();
            if (!ToJson(ctx, node, json, map, 0))
            {
                return null;
            }
            source = json.ToString();
        }
        else
        {
            var text = ctx.Text(node, "a template (text, or a mapping written as JSON)");
            if (text is null)
            {
                return null;
            }
            source = text;
            map.Add((0, node));
        }
        if (!PayloadTemplate.TryCompile(source, out var template, out var errors))
        {
            foreach (var error in errors)
            {
                var (offset, origin) = Locate(map, error.Offset);
                ctx.ErrorInScalar(origin, offset, $"{what}: {error.Message}", error.Hint);
            }
            return null;
        }
        if (kind != TemplateKind.Text && template.CheckJson(kind == TemplateKind.JsonObject) is { } problem)
        {
            ctx.Error(node, $"{what} {problem}", "a JSON template renders to JSON: quote every generator as \"{{name args}}\"");
            return null;
        }
        return template;
    }

    private static (int Offset, YamlNode Node) Locate(List<(int Offset, YamlNode Node)> map, int offset)
    {
        var found = map[0];
        foreach (var entry in map)
        {
            if (entry.Offset <= offset)
            {
                found = entry;
            }
        }
        return (offset - found.Offset, found.Node);
    }

    private static bool ToJson(ParseContext ctx, YamlNode node, StringBuilder json, List<(int, YamlNode)> map, int depth)
    {
        if (depth > MaxDepth)
        {
            ctx.Error(node, $"template nested deeper than {MaxDepth} levels");
            return false;
        }
        if (json.Length > MaxLength)
        {
            ctx.Error(node, $"template longer than {MaxLength} characters", "IoT Hub messages are at most 256 KB; check for repeated *aliases");
            return false;
        }
        switch (node)
        {
            case YamlMappingNode mapping:
                json.Append('{');
                var first = true;
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is not YamlScalarNode)
                    {
                        ctx.Error(key, "template keys must be plain names");
                        return false;
                    }
                    if (!first)
                    {
                        json.Append(", ");
                    }
                    first = false;
                    if (!String(ctx, key, json, map) )
                    {
                        return false;
                    }
                    json.Append(": ");
                    if (!ToJson(ctx, value, json, map, depth + 1))
                    {
                        return false;
                    }
                }
                json.Append('}');
                return true;
            case YamlSequenceNode sequence:
                json.Append('[');
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    if (i > 0)
                    {
                        json.Append(", ");
                    }
                    if (!ToJson(ctx, sequence.Children[i], json, map, depth + 1))
                    {
                        return false;
                    }
                }
                json.Append(']');
                return true;
            case YamlScalarNode scalar when scalar.Style is ScalarStyle.Plain or ScalarStyle.Any:
                var text = scalar.Value ?? "";
                if (ParseContext.IsNull(scalar))
                {
                    json.Append("null");
                    return true;
                }
                if (text is "true" or "false" || TemplateArguments.IsJsonNumber(text))
                {
                    json.Append(text);
                    return true;
                }
                return String(ctx, scalar, json, map);
            default:
                return String(ctx, node, json, map);
        }
    }

    private static bool String(ParseContext ctx, YamlNode node, StringBuilder json, List<(int, YamlNode)> map)
    {
        var text = ctx.Text(node, "a string");
        if (text is null)
        {
            return false;
        }
        json.Append('"');
        map.Add((json.Length, node));
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                case '\n': json.Append("\\n"); break;
                case '\r': json.Append("\\r"); break;
                case '\t': json.Append("\\t"); break;
                default:
                    if (c < ' ')
                    {
                        json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        json.Append(c);
                    }
                    break;
            }
        }
        json.Append('"');
        return true;
    }
}
