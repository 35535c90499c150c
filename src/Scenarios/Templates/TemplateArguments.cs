using System.Globalization;
using FleetSim.Scenarios.Parsing;

namespace FleetSim.Scenarios.Templates;

/// <summary>One word of an expression: its text, its offset in the template source, and whether it was quoted.</summary>
internal readonly record struct TemplateToken(string Text, int Offset, bool Quoted);

/// <summary>Turns the words of one {{expression}} into a <see cref="Generator"/>, checking every argument.</summary>
internal static class TemplateArguments
{
    public static readonly string[] GeneratorNames =
    [
        "counter", "sequence", "randomInt", "randomFloat", "gaussian", "sine", "sawtooth",
        "choice", "weightedChoice", "bool", "timestamp", "deviceId", "guid",
    ];

    private const int DefaultDecimals = 2;

    public static bool IsJsonNumber(string text) =>
        text.Length > 0 && (char.IsAsciiDigit(text[0]) || (text[0] == '-' && text.Length > 1 && char.IsAsciiDigit(text[1])))
        && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
        && !text.Contains('_') && !(text.Length > 1 && text[0] == '0' && char.IsAsciiDigit(text[1]));

    public static Generator? Create(List<TemplateToken> words, int exprOffset, List<TemplateError> errors)
    {
        if (words.Count == 0)
        {
            errors.Add(new TemplateError(exprOffset, "empty expression {{}}", "write a generator, e.g. {{counter}}"));
            return null;
        }
        var name = words[0];
        var args = new Args(words, errors);
        Generator? generator = name.Text switch
        {
            "counter" => args.Count(0, 0) ? new CounterGenerator() : null,
            "sequence" => args.Count(0, 2) && args.Long(1, 0, out var start) && args.Long(2, 1, out var step)
                ? new SequenceGenerator(start, step) : null,
            "randomInt" => args.Count(2, 2) && args.Long(1, 0, out var lo) && args.Long(2, 0, out var hi) && args.Ordered(lo, hi)
                ? new RandomIntGenerator(lo, hi) : null,
            "randomFloat" => args.Count(2, 3) && args.Real(1, out var fmin) && args.Real(2, out var fmax) && args.Ordered(fmin, fmax)
                && args.Decimals(3, out var d1) ? new RandomFloatGenerator(fmin, fmax, d1) : null,
            "gaussian" => args.Count(2, 3) && args.Real(1, out var mean) && args.Real(2, out var sd) && args.NotNegative(2, sd)
                && args.Decimals(3, out var d2) ? new GaussianGenerator(mean, sd, d2) : null,
            "sine" => args.Count(2, 4) && args.Period(1, out var sp) && args.Real(2, out var amp)
                && (words.Count < 4 ? args.Zero(out var off) : args.Real(3, out off)) && args.Decimals(4, out var d3)
                ? new SineGenerator(sp, amp, off, d3) : null,
            "sawtooth" => args.Count(3, 4) && args.Period(1, out var wp) && args.Real(2, out var wmin) && args.Real(3, out var wmax)
                && args.Ordered(wmin, wmax) && args.Decimals(4, out var d4) ? new SawtoothGenerator(wp, wmin, wmax, d4) : null,
            "choice" => args.Count(1, int.MaxValue) ? new ChoiceGenerator(Options(words)) : null,
            "weightedChoice" => args.Count(1, int.MaxValue) && args.Weighted(out var options, out var cumulative)
                ? new WeightedChoiceGenerator(options, cumulative) : null,
            "bool" => args.Count(0, 1) && (words.Count < 2 ? args.Half(out var p) : args.Probability(1, out p)) ? new BoolGenerator(p) : null,
            "timestamp" => args.Count(0, 1) && args.TimestampKind(out var kind) ? new TimestampGenerator(kind) : null,
            "deviceId" => args.Count(0, 0) ? new DeviceIdGenerator() : null,
            "guid" => args.Count(0, 0) ? new GuidGenerator() : null,
            _ => Unknown(name, errors),
        };
        return generator;
    }

    private static Generator? Unknown(TemplateToken name, List<TemplateError> errors)
    {
        var suggestion = DidYouMean.Suggest(name.Text, GeneratorNames);
        errors.Add(new TemplateError(name.Offset, $"unknown generator '{name.Text}'",
            suggestion is null ? "generators: " + string.Join(", ", GeneratorNames) : $"did you mean '{suggestion}'?"));
        return null;
    }

    private static ChoiceOption[] Options(List<TemplateToken> words)
    {
        var options = new ChoiceOption[words.Count - 1];
        for (var i = 1; i < words.Count; i++)
        {
            options[i - 1] = new ChoiceOption(words[i].Text, words[i].Quoted);
        }
        return options;
    }

    /// <summary>Argument checks that add a positioned error and return false when an argument is wrong.</summary>
    private readonly struct Args(List<TemplateToken> words, List<TemplateError> errors)
    {
        private string Name => words[0].Text;

        public bool Count(int min, int max)
        {
            var n = words.Count - 1;
            if (n >= min && n <= max)
            {
                return true;
            }
            var expected = min == max ? $"{min}" : max == int.MaxValue ? $"at least {min}" : $"{min} to {max}";
            errors.Add(new TemplateError(words[0].Offset, $"'{Name}' takes {expected} argument(s), found {n}", Usage(Name)));
            return false;
        }

        public bool Long(int index, long fallback, out long value)
        {
            value = fallback;
            if (index >= words.Count)
            {
                return true;
            }
            if (long.TryParse(words[index].Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
            {
                return true;
            }
            return Fail(index, $"'{Name}' expects a whole number, found '{words[index].Text}'");
        }

        public bool Real(int index, out double value)
        {
            if (double.TryParse(words[index].Text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value))
            {
                return true;
            }
            return Fail(index, $"'{Name}' expects a number, found '{words[index].Text}'");
        }

        public bool Zero(out double value)
        {
            value = 0;
            return true;
        }

        public bool Half(out double value)
        {
            value = 0.5;
            return true;
        }

        public bool Ordered(double min, double max) =>
            min <= max || Fail(1, $"'{Name}': the minimum {min.ToString(CultureInfo.InvariantCulture)} is greater than the maximum {max.ToString(CultureInfo.InvariantCulture)}");

        public bool NotNegative(int index, double value) => value >= 0 || Fail(index, $"'{Name}': the standard deviation must not be negative");

        public bool Decimals(int index, out int decimals)
        {
            decimals = DefaultDecimals;
            if (index >= words.Count)
            {
                return true;
            }
            if (int.TryParse(words[index].Text, NumberStyles.None, CultureInfo.InvariantCulture, out decimals) && decimals <= 15)
            {
                return true;
            }
            return Fail(index, $"'{Name}': decimals must be a whole number from 0 to 15, found '{words[index].Text}'");
        }

        public bool Probability(int index, out double p) =>
            (Real(index, out p) && p is >= 0 and <= 1) || Fail(index, $"'{Name}': the probability must be between 0 and 1");

        public bool Period(int index, out double seconds)
        {
            seconds = 0;
            if (!DurationText.TryParse(words[index].Text, out var period, out var error))
            {
                return Fail(index, $"'{Name}': period {error}");
            }
            seconds = period.TotalSeconds;
            return seconds > 0 || Fail(index, $"'{Name}': the period must be greater than 0");
        }

        public bool TimestampKind(out TimestampFormat kind)
        {
            kind = TimestampFormat.Iso;
            if (words.Count < 2)
            {
                return true;
            }
            switch (words[1].Text)
            {
                case "iso": return true;
                case "unix": kind = TimestampFormat.Unix; return true;
                case "unixMs": kind = TimestampFormat.UnixMs; return true;
                default: return Fail(1, $"'timestamp' format must be iso, unix or unixMs, found '{words[1].Text}'");
            }
        }

        public bool Weighted(out ChoiceOption[] options, out double[] cumulative)
        {
            options = new ChoiceOption[words.Count - 1];
            cumulative = new double[words.Count - 1];
            var total = 0.0;
            for (var i = 1; i < words.Count; i++)
            {
                var text = words[i].Text;
                var colon = text.LastIndexOf(':');
                if (colon <= 0 || !double.TryParse(text.AsSpan(colon + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var weight)
                    || !(weight > 0) || !double.IsFinite(weight))
                {
                    return Fail(i, $"'weightedChoice' option '{text}' needs a positive weight after ':'");
                }
                total += weight;
                cumulative[i - 1] = total;
                options[i - 1] = new ChoiceOption(text[..colon], words[i].Quoted);
            }
            return true;
        }

        private bool Fail(int index, string message)
        {
            errors.Add(new TemplateError(words[Math.Min(index, words.Count - 1)].Offset, message, Usage(Name)));
            return false;
        }

        private static string Usage(string name) => name switch
        {
            "sequence" => "usage: {{sequence [start] [step]}}",
            "randomInt" => "usage: {{randomInt min max}}",
            "randomFloat" => "usage: {{randomFloat min max [decimals]}}",
            "gaussian" => "usage: {{gaussian mean stddev [decimals]}}",
            "sine" => "usage: {{sine period amplitude [offset] [decimals]}}, e.g. {{sine 60s 5 20}}",
            "sawtooth" => "usage: {{sawtooth period min max [decimals]}}",
            "choice" => "usage: {{choice a b c}}",
            "weightedChoice" => "usage: {{weightedChoice a:3 b:1}}",
            "bool" => "usage: {{bool [probability]}}",
            "timestamp" => "usage: {{timestamp [iso|unix|unixMs]}}",
            _ => $"usage: {{{{{name}}}}}",
        };
    }
}
