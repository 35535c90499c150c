using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;

namespace FleetSim.Scenarios.Templates;

/// <summary>
/// A payload template compiled once (per group or action) and rendered per message. The source is text,
/// usually JSON, in which <c>{{generator args}}</c> expressions are replaced on every render. An expression
/// that is the whole of a JSON string (<c>"{{gaussian 20 2}}"</c>) becomes a typed JSON value (the quotes go
/// away for numbers and booleans); inside a longer string it is JSON-escaped text; outside strings it is raw.
/// Render writes straight into an <see cref="IBufferWriter{T}"/> and allocates nothing per message.
/// </summary>
public sealed class PayloadTemplate
{
    private readonly Segment[] segments;
    private readonly int slots;

    private PayloadTemplate(string source, Segment[] segments, int slots)
    {
        Source = source;
        this.segments = segments;
        this.slots = slots;
    }

    /// <summary>The template text as written.</summary>
    public string Source { get; }

    /// <summary>True when the template has no expressions (every render gives the same bytes).</summary>
    public bool IsConstant => segments.Length <= 1 && (segments.Length == 0 || segments[0].Generator is null);

    /// <summary>Compiles the source, collecting every error (each with its offset in the source).</summary>
    public static bool TryCompile(string source, [NotNullWhen(true)] out PayloadTemplate? template, out IReadOnlyList<TemplateError> errors)
    {
        ArgumentNullException.ThrowIfNull(source);
        var list = new List<TemplateError>();
        var segments = TemplateCompiler.Compile(source, list);
        errors = list;
        if (list.Count > 0)
        {
            template = null;
            return false;
        }
        var slots = 0;
        foreach (var segment in segments)
        {
            if (segment.Generator is { NeedsSlot: true } generator)
            {
                generator.Slot = slots++;
            }
        }
        template = new PayloadTemplate(source, segments, slots);
        return true;
    }

    /// <summary>Compiles the source or throws <see cref="FormatException"/> listing the errors.</summary>
    public static PayloadTemplate Compile(string source) =>
        TryCompile(source, out var template, out var errors)
            ? template
            : throw new FormatException("Invalid payload template: " + string.Join("; ", errors));

    /// <summary>
    /// State for one device: its own <see cref="Random"/> seeded with <paramref name="seed"/> (derive it with
    /// <see cref="DeviceSeed.Derive"/>), the counter, and the start time of sine/sawtooth.
    /// </summary>
    public TemplateDeviceState CreateState(string deviceId, int seed, DateTimeOffset start) => new(deviceId, seed, start, slots);

    /// <summary>Renders one message for the device owning <paramref name="state"/> into <paramref name="output"/>.</summary>
    public void Render(IBufferWriter<byte> output, TemplateDeviceState state, DateTimeOffset now)
    {
        state.Counter++;
        var items = segments;
        for (var i = 0; i < items.Length; i++)
        {
            var segment = items[i];
            if (segment.Generator is { } generator)
            {
                generator.Write(output, state, now, segment.Placement);
            }
            else
            {
                JsonText.Write(output, segment.Literal);
            }
        }
    }

    /// <summary>Renders into a new string (tests, service side; not for per-message device paths).</summary>
    public string RenderToString(TemplateDeviceState state, DateTimeOffset now)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Render(buffer, state, now);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// Checks that renders are JSON (an object when <paramref name="requireObject"/>), by rendering a sample.
    /// Returns null when valid, else what is wrong.
    /// </summary>
    public string? CheckJson(bool requireObject)
    {
        var sample = RenderToString(CreateState("device-0", 1, DateTimeOffset.UnixEpoch), DateTimeOffset.UnixEpoch.AddSeconds(1));
        try
        {
            using var document = JsonDocument.Parse(sample);
            if (requireObject && document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return $"must be a JSON object, found a JSON {document.RootElement.ValueKind.ToString().ToLowerInvariant()}";
            }
            return null;
        }
        catch (JsonException e)
        {
            var reason = e.Message;
            var cut = reason.IndexOf(" Path:", StringComparison.Ordinal);
            return "is not valid JSON: " + (cut > 0 ? reason[..cut] : reason).TrimEnd('.');
        }
    }

    public override string ToString() => Source;

    internal sealed class Segment(byte[] literal, Generator? generator, ValuePlacement placement)
    {
        public byte[] Literal { get; } = literal;

        public Generator? Generator { get; } = generator;

        public ValuePlacement Placement { get; } = placement;
    }
}
