using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FleetSim.Scenarios.Templates;

/// <summary>How a generator's value lands in the output.</summary>
internal enum ValuePlacement
{
    /// <summary>Outside any JSON string: the value as is.</summary>
    Raw,

    /// <summary>Inside a JSON string with other text: JSON-escaped, no quotes.</summary>
    InString,

    /// <summary>The whole JSON string was the expression: a typed JSON value (numbers and booleans bare, strings quoted).</summary>
    Value,
}

internal static class JsonText
{
    public static byte[] Escape(string text) =>
        JsonEncodedText.Encode(text, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).EncodedUtf8Bytes.ToArray();

    public static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        var span = output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        output.Advance(bytes.Length);
    }

    public static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    /// <summary>A text value: quoted and escaped as a JSON value, escaped inside a string, raw outside.</summary>
    public static void WriteText(IBufferWriter<byte> output, byte[] raw, byte[] escaped, ValuePlacement placement)
    {
        switch (placement)
        {
            case ValuePlacement.Raw:
                Write(output, raw);
                break;
            case ValuePlacement.InString:
                Write(output, escaped);
                break;
            default:
                WriteByte(output, (byte)'"');
                Write(output, escaped);
                WriteByte(output, (byte)'"');
                break;
        }
    }

    public static void WriteInteger(IBufferWriter<byte> output, long value)
    {
        var span = output.GetSpan(24);
        value.TryFormat(span, out var written, default, System.Globalization.CultureInfo.InvariantCulture);
        output.Advance(written);
    }

    public static void WriteNumber(IBufferWriter<byte> output, double value, string format)
    {
        var span = output.GetSpan(64);
        if (!value.TryFormat(span, out var written, format, System.Globalization.CultureInfo.InvariantCulture))
        {
            span = output.GetSpan(400);
            value.TryFormat(span, out written, format, System.Globalization.CultureInfo.InvariantCulture);
        }
        output.Advance(written);
    }

    public static void WriteBool(IBufferWriter<byte> output, bool value)
    {
        Write(output, value ? "true"u8 : "false"u8);
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
