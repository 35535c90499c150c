using System.Buffers;

namespace FleetSim.Scenarios.Templates;

/// <summary>
/// A value generator compiled from one {{expression}}. Arguments are checked at compile time; Write runs per
/// message and allocates nothing.
/// </summary>
internal abstract class Generator
{
    /// <summary>Index of this generator's per-device slot in <see cref="TemplateDeviceState"/>, or -1.</summary>
    public int Slot { get; set; } = -1;

    public virtual bool NeedsSlot => false;

    public abstract void Write(IBufferWriter<byte> output, TemplateDeviceState state, DateTimeOffset now, ValuePlacement placement);
}

/// <summary>{{counter}}: messages rendered for this device, this one included (1, 2, 3, ...).</summary>
internal sealed class CounterGenerator : Generator
{
    public override void Write(IBufferWriter<byte> output, TemplateDeviceState state, DateTimeOffset now, ValuePlacement placement) =>
        JsonText.WriteInteger(output, state.Counter);
}

/// <summary>{{sequence start step}}: start, start+step, ... per device, independent of other expressions.</summary>
internal sealed class SequenceGenerator(long start, long step) : Generator
{
    public override bool NeedsSlot => true;

    public override void Write(IBufferWriter<byte> output, TemplateDeviceState state, DateTimeOffset now, ValuePlacement placement)
    {
        var n = state.Slots[Slot]++;
        JsonText.WriteInteger(output, unchecked(start + (n * step)));
    }
}

/// <summary>{{randomInt min max}}: uniform integer, both ends included.</summary>
internal sealed class RandomIntGenerator(long min, long max) : Generator
{
    public override void Write(IBufferWriter<byte> output, TemplateDeviceState state, DateTimeOffset now, ValuePlacement placement) =>
        JsonText.WriteInteger(output, max == long.MaxValue ? state.Random.NextInt64(min, max) : state.Random.NextInt64(min, max + 1));
}

/// <summary>Base of the generators that produce a real number rounded to a number of decimals.</summary>
internal abstract class RealGenerator(int decimals) : Generator
{
    private readonly string format = "F" + decimals.ToString(System.Globalization.CultureInfo.InvariantCulture);

    protected abstract double Next(TemplateDeviceState state, DateTimeOffset now);

    public sealed override void Write(IBufferWriter<byte> output, TemplateDeviceState state, DateTimeOffset now, ValuePlacement placement) =>
        JsonText.WriteNumber(output, Next(state, now), format);

    protected static double Elapsed(TemplateDeviceState state, DateTimeOffset now) => (now - state.Start).TotalSeconds;
}

/// <summary>{{randomFloat min max [decimals]}}: uniform in [min, max).</summary>
internal sealed class RandomFloatGenerator(double min, double max, int decimals) : RealGenerator(decimals)
{
    protected override double Next(TemplateDeviceState state, DateTimeOffset now) => min + (state.Random.NextDouble() * (max - min));
}

/// <summary>{{gaussian mean stddev [decimals]}}: normal distribution (Box-Muller).</summary>
internal sealed class GaussianGenerator(double mean, double stddev, int decimals) : RealGenerator(decimals)
{
    protected override double Next(TemplateDeviceState state, DateTimeOffset now)
    {
        var u1 = 1.0 - state.Random.NextDouble();
        var u2 = state.Random.NextDouble();
        return mean + (stddev * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }
}

/// <summary>{{sine period amplitude [offset] [decimals]}}: offset + amplitude * sin(2 pi t / period), t from the device's start.</summary>
internal sealed class SineGenerator(double periodSeconds, double amplitude, double offset, int decimals) : RealGenerator(decimals)
{
    protected override double Next(TemplateDeviceState state, DateTimeOffset now) =>
        offset + (amplitude * Math.Sin(2.0 * Math.PI * Elapsed(state, now) / periodSeconds));
}

/// <summary>{{sawtooth period min max [decimals]}}: rises linearly from min to max over each period, then restarts.</summary>
internal sealed class SawtoothGenerator(double periodSeconds, double min, double max, int decimals) : RealGenerator(decimals)
{
    protected override double Next(TemplateDeviceState state, DateTimeOffset now)
    {
        var cycles = Elapsed(state, now) / periodSeconds;
        return min + ((max - min) * (cycles - Math.Floor(cycles)));
    }
}

/// <summary>One option of choice/weightedChoice, pre-encoded; JSON literals (numbers, true, false, null) stay typed.</summary>
internal sealed class ChoiceOption
{
    public ChoiceOption(string text, bool quoted)
    {
        Raw = JsonText.Utf8(text);
        Escaped = JsonText.Escape(text);
        IsLiteral = !quoted && (text is "true" or "false" or "null" || TemplateArguments.IsJsonNumber(text));
    }

    public byte[] Raw { get; }

    public byte[] Escaped { get; }

    public bool IsLiteral { get; }

    public void Write(IBufferWriter<byte> output, ValuePlacement placement)
    {
        if (IsLiteral)
        {
            JsonText.Write(output, Raw);
        }
        else
        {
            JsonText.WriteText(output, Raw, Escaped, placement);
        }
    }
}

/// <summary>{{choice a b c}}: one of the options, uniformly.</summary>
internal sealed class ChoiceGenerator(ChoiceOption[] options) : Generator
{
    public override void Write(IBufferWriter<byte> output, TemplateDeviceState state, DateTimeOffset now, ValuePlacement placement) =>
        options[state.Random.Next(options.Length)].Write(output, placement);
}

/// <summary>{{weightedChoice a:3 b:1}}: one of the options with probability weight / total.</summary>
internal sealed class WeightedChoiceGenerator(ChoiceOption[] options, double[] cumulative) : Generator
{
    public override void Write(IBufferWriter<byte> output, TemplateDeviceState state, DateTimeOffset now, ValuePlacement placement)
    {
        var x = state.Random.NextDouble() * cumulative[^1];
        var i = 0;
        while (i < cumulative.Length - 1 && x >= cumulative[i])
        {
            i++;
        }
        options[i].Write(output, placement);
    }
}

/// <summary>{{bool [probability]}}: true with the probability (default 0.5).</summary>
internal sealed class BoolGenerator(double probability) : Generator
{
    public override void Write(IBufferWriter<byte> output, TemplateDeviceState state, DateTimeOffset now, ValuePlacement placement) =>
        JsonText.WriteBool(output, state.Random.NextDouble() < probability);
}

internal enum TimestampFormat { Iso, Unix, UnixMs }

/// <summary>{{timestamp [iso|unix|unixMs]}}: the render time, ISO 8601 UTC string or unix seconds/milliseconds.</summary>
internal sealed class TimestampGenerator(TimestampFormat format) : Generator
{
    public override void Write(IBufferWriter<byte> output, TemplateDeviceState state, DateTimeOffset now, ValuePlacement placement)
    {
        switch (format)
        {
            case TimestampFormat.Unix:
                JsonText.WriteInteger(output, now.ToUnixTimeSeconds());
                return;
            case TimestampFormat.UnixMs:
                JsonText.WriteInteger(output, now.ToUnixTimeMilliseconds());
                return;
        }
        if (placement == ValuePlacement.Value)
        {
            JsonText.WriteByte(output, (byte)'"');
        }
        var span = output.GetSpan(32);
        now.UtcDateTime.TryFormat(span, out var written, "yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
        output.Advance(written);
        if (placement == ValuePlacement.Value)
        {
            JsonText.WriteByte(output, (byte)'"');
        }
    }
}

/// <summary>{{deviceId}}: the id of the device rendering the template.</summary>
internal sealed class DeviceIdGenerator : Generator
{
    public override void Write(IBufferWriter<byte> output, TemplateDeviceState state, DateTimeOffset now, ValuePlacement placement) =>
        JsonText.WriteText(output, state.DeviceIdRaw, state.DeviceIdEscaped, placement);
}

/// <summary>{{guid}}: a version-4 GUID drawn from the device's seeded Random (reproducible).</summary>
internal sealed class GuidGenerator : Generator
{
    public override void Write(IBufferWriter<byte> output, TemplateDeviceState state, DateTimeOffset now, ValuePlacement placement)
    {
        Span<byte> bytes = stackalloc byte[16];
        state.Random.NextBytes(bytes);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        var guid = new Guid(bytes);
        if (placement == ValuePlacement.Value)
        {
            JsonText.WriteByte(output, (byte)'"');
        }
        var span = output.GetSpan(36);
        guid.TryFormat(span, out var written, "D");
        output.Advance(written);
        if (placement == ValuePlacement.Value)
        {
            JsonText.WriteByte(output, (byte)'"');
        }
    }
}
