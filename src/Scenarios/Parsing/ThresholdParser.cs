using System.Globalization;
using FleetSim.Scenarios.Model;
using YamlDotNet.RepresentationModel;

namespace FleetSim.Scenarios.Parsing;

/// <summary>thresholds: abortOnBreach and, per operation, rules "metric op value" such as "p99 &lt; 200ms".</summary>
internal static class ThresholdParser
{
    private const string AbortOnBreach = "abortOnBreach";

    public static Thresholds Parse(ParseContext ctx, YamlNode? node)
    {
        if (node is null || ObjectReader.Open(ctx, node, "thresholds", "thresholds") is not { } t)
        {
            return Thresholds.None;
        }
        var abort = t.Bool(AbortOnBreach) ?? false;
        var rules = new List<ThresholdRule>();
        foreach (var operation in ctx.Schema.Keys("thresholds"))
        {
            if (operation == AbortOnBreach || t.Get(operation) is not { } list)
            {
                continue;
            }
            if (list is not YamlSequenceNode sequence)
            {
                ctx.Error(list, $"thresholds.{operation}: expected a list of rules, found {ParseContext.Describe(list)}", "e.g. [\"p99 < 200ms\", \"errorRate < 1%\"]");
                continue;
            }
            foreach (var item in sequence.Children)
            {
                if (Rule(ctx, item, operation) is { } rule)
                {
                    rules.Add(rule);
                }
            }
        }
        return new Thresholds(rules, abort);
    }

    private static ThresholdRule? Rule(ParseContext ctx, YamlNode node, string operation)
    {
        var text = ctx.Text(node, "a rule such as \"p99 < 200ms\"");
        if (text is null)
        {
            return null;
        }
        var i = 0;
        Skip(text, ref i);
        var metricStart = i;
        while (i < text.Length && char.IsAsciiLetterOrDigit(text[i]))
        {
            i++;
        }
        var metricText = text[metricStart..i];
        var metrics = ctx.Schema.EnumValues("thresholdMetric");
        var index = metrics.ToList().IndexOf(metricText);
        if (index < 0)
        {
            var suggestion = DidYouMean.Suggest(metricText, metrics);
            ctx.ErrorInScalar(node, metricStart, $"'{metricText}' is not a threshold metric",
                (suggestion is null ? "" : $"did you mean '{suggestion}'? ") + "metrics: " + string.Join(", ", metrics));
            return null;
        }
        var metric = Enum.Parse<ThresholdMetric>(metricText, ignoreCase: true);
        Skip(text, ref i);
        var opStart = i;
        Comparison? comparison = null;
        foreach (var (symbol, value) in new[] { ("<=", Comparison.LessOrEqual), (">=", Comparison.GreaterOrEqual), ("==", Comparison.Equal),
            ("!=", Comparison.NotEqual), ("<", Comparison.Less), (">", Comparison.Greater) })
        {
            if (string.CompareOrdinal(text, i, symbol, 0, symbol.Length) == 0)
            {
                comparison = value;
                i += symbol.Length;
                break;
            }
        }
        if (comparison is null)
        {
            ctx.ErrorInScalar(node, opStart, $"threshold '{text}' needs a comparison after '{metricText}'", "one of <, <=, >, >=, ==, !=");
            return null;
        }
        Skip(text, ref i);
        var valueStart = i;
        var valueText = text[i..].Trim();
        if ((metric is ThresholdMetric.Lost or ThresholdMetric.Duplicated or ThresholdMetric.Dropped) && operation != "telemetry")
        {
            ctx.ErrorInScalar(node, metricStart, $"'{metricText}' is counted for telemetry only", "move the rule under thresholds.telemetry");
            return null;
        }
        var sectionMetrics = ThresholdSections.MetricsOf(operation);
        if (sectionMetrics.Count > 0 && !sectionMetrics.Contains(metric))
        {
            ctx.ErrorInScalar(node, metricStart, $"'{metricText}' is not a metric of thresholds.{operation}",
                $"thresholds.{operation} takes {string.Join(", ", sectionMetrics.Select(ThresholdNames.Of))}");
            return null;
        }
        if (sectionMetrics.Count == 0 && metric is ThresholdMetric.NeverReconnected or ThresholdMetric.TwinDiverged or ThresholdMetric.TwinUnchecked)
        {
            var home = metric == ThresholdMetric.NeverReconnected ? ThresholdSections.Recovery : ThresholdSections.Convergence;
            ctx.ErrorInScalar(node, metricStart, $"'{metricText}' is not measured per operation", $"move the rule under thresholds.{home}");
            return null;
        }
        var parsed = Value(metric, valueText, out var error);
        if (parsed is null)
        {
            ctx.ErrorInScalar(node, valueStart, $"threshold '{text}': {error}");
            return null;
        }
        return new ThresholdRule(operation, metric, comparison.Value, parsed.Value, text.Trim());
    }

    private static double? Value(ThresholdMetric metric, string text, out string? error)
    {
        error = null;
        switch (metric)
        {
            case ThresholdMetric.ErrorRate:
                var percent = text.EndsWith('%');
                if (double.TryParse(percent ? text[..^1] : text, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate)
                    && (percent ? rate is >= 0 and <= 100 : rate is >= 0 and <= 1))
                {
                    return percent ? rate / 100 : rate;
                }
                error = $"'{text}' is not an error rate; write a percentage (1%) or a fraction (0.01)";
                return null;
            case ThresholdMetric.Count or ThresholdMetric.Failed or ThresholdMetric.Lost or ThresholdMetric.Duplicated or ThresholdMetric.Dropped
                or ThresholdMetric.NeverReconnected or ThresholdMetric.TwinDiverged or ThresholdMetric.TwinUnchecked:
                if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
                {
                    return count;
                }
                error = $"'{text}' is not a count; write a whole number 0 or more";
                return null;
            case ThresholdMetric.Throughput:
                var perSecond = text.EndsWith("/s", StringComparison.Ordinal) ? text[..^2] : text;
                if (double.TryParse(perSecond, NumberStyles.Float, CultureInfo.InvariantCulture, out var throughput) && throughput >= 0 && double.IsFinite(throughput))
                {
                    return throughput;
                }
                error = $"'{text}' is not a throughput; write operations per second, e.g. 500/s";
                return null;
            default:
                if (DurationText.TryParse(text, out var latency, out var durationError))
                {
                    return latency.TotalMilliseconds;
                }
                error = "latency " + durationError;
                return null;
        }
    }

    /// <summary>A metric as written in a scenario (camelCase, as in the schema's thresholdMetric).</summary>
    private static class ThresholdNames
    {
        public static string Of(ThresholdMetric metric)
        {
            var name = metric.ToString();
            return char.ToLowerInvariant(name[0]) + name[1..];
        }
    }

    private static void Skip(string text, ref int i)
    {
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++;
        }
    }
}
