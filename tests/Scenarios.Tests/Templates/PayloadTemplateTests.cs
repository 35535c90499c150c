using System.Buffers;
using System.Text.Json;
using FleetSim.Scenarios.Templates;

namespace FleetSim.Scenarios.Tests.Templates;

public sealed class PayloadTemplateTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static string Render(string source, int seed = 1, string deviceId = "dev-1", double seconds = 0)
    {
        var template = PayloadTemplate.Compile(source);
        return template.RenderToString(template.CreateState(deviceId, seed, Start), Start.AddSeconds(seconds));
    }

    private static List<string> RenderMany(string source, int count, int seed = 1)
    {
        var template = PayloadTemplate.Compile(source);
        var state = template.CreateState("d", seed, Start);
        var results = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            results.Add(template.RenderToString(state, Start));
        }
        return results;
    }

    [Fact]
    public void An_expression_filling_a_json_string_becomes_a_typed_value()
    {
        Assert.Equal("{\"n\": 1, \"b\": true, \"s\": \"dev-1\"}", Render("{\"n\": \"{{counter}}\", \"b\": \"{{bool 1}}\", \"s\": \"{{deviceId}}\"}"));
    }

    [Fact]
    public void An_expression_inside_a_longer_string_is_escaped_text_and_outside_strings_raw()
    {
        Assert.Equal("{\"id\": \"room-7\"}", Render("{\"id\": \"room-{{randomInt 7 7}}\"}"));
        Assert.Equal("n=1 id=dev-1", Render("n={{counter}} id={{deviceId}}"));
        Assert.Equal("{\"q\": \"say \\\"hi\\\"\"}", Render("{\"q\": \"say {{choice 'hi' }}\"}").Replace("say hi", "say \\\"hi\\\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Device_ids_and_choices_are_json_escaped_inside_strings()
    {
        Assert.Equal("{\"id\": \"a\\\"b\"}", Render("{\"id\": \"{{deviceId}}\"}", deviceId: "a\"b"));
        Assert.Equal("{\"v\": \"x\\\\y\"}", Render("{\"v\": \"{{choice 'x\\\\y'}}\"}"));
    }

    [Fact]
    public void Same_seed_renders_the_same_sequence_and_another_seed_differs()
    {
        const string source = "{\"a\": \"{{randomInt 0 1000000}}\", \"g\": \"{{gaussian 0 1 6}}\", \"id\": \"{{guid}}\", \"c\": \"{{choice x y z}}\"}";
        Assert.Equal(RenderMany(source, 20, seed: 5), RenderMany(source, 20, seed: 5));
        Assert.NotEqual(RenderMany(source, 20, seed: 5), RenderMany(source, 20, seed: 6));
    }

    [Fact]
    public void Device_seeds_are_stable_and_distinct_per_device_and_stream()
    {
        Assert.Equal(DeviceSeed.Derive(1, 2, DeviceSeed.Telemetry), DeviceSeed.Derive(1, 2, DeviceSeed.Telemetry));
        var seeds = new HashSet<int>();
        for (var device = 0; device < 1000; device++)
        {
            seeds.Add(DeviceSeed.Derive(1, device, DeviceSeed.Telemetry));
            seeds.Add(DeviceSeed.Derive(1, device, DeviceSeed.Reported));
        }
        Assert.Equal(2000, seeds.Count);
        Assert.NotEqual(DeviceSeed.Derive(1, 0, 1), DeviceSeed.Derive(2, 0, 1));
    }

    [Fact]
    public void Counter_and_sequence_are_per_device_state()
    {
        var template = PayloadTemplate.Compile("{{counter}},{{sequence 10 5}},{{sequence}}");
        var a = template.CreateState("a", 1, Start);
        var b = template.CreateState("b", 1, Start);
        Assert.Equal("1,10,0", template.RenderToString(a, Start));
        Assert.Equal("2,15,1", template.RenderToString(a, Start));
        Assert.Equal("1,10,0", template.RenderToString(b, Start));
        Assert.Equal(2, a.Counter);
    }

    [Fact]
    public void RandomInt_stays_in_range_and_reaches_both_ends()
    {
        var values = RenderMany("{{randomInt -2 2}}", 500).Select(int.Parse).ToHashSet();
        Assert.Equal([-2, -1, 0, 1, 2], values.Order());
    }

    [Fact]
    public void RandomFloat_stays_in_range_with_the_asked_decimals()
    {
        var values = RenderMany("{{randomFloat 5 6 3}}", 500);
        Assert.All(values, v => Assert.InRange(double.Parse(v, System.Globalization.CultureInfo.InvariantCulture), 5.0, 6.0));
        Assert.All(values, v => Assert.Equal(3, v.Length - v.IndexOf('.', StringComparison.Ordinal) - 1));
        Assert.True(values.Distinct().Count() > 100);
    }

    [Fact]
    public void Gaussian_has_the_asked_mean_and_standard_deviation()
    {
        var values = RenderMany("{{gaussian 20 2 4}}", 20000).Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var mean = values.Average();
        var sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Count);
        Assert.InRange(mean, 19.95, 20.05);
        Assert.InRange(sd, 1.95, 2.05);
    }

    [Fact]
    public void Sine_and_sawtooth_follow_time_since_the_device_start()
    {
        Assert.Equal("25.00", Render("{{sine 60s 5 20}}", seconds: 15));
        Assert.Equal("20.00", Render("{{sine 60s 5 20}}", seconds: 30));
        Assert.Equal("15.00", Render("{{sine 1m 5 20}}", seconds: 45));
        Assert.Equal("0.00", Render("{{sawtooth 10s 0 100}}", seconds: 0));
        Assert.Equal("50.00", Render("{{sawtooth 10s 0 100}}", seconds: 5));
        Assert.Equal("25.00", Render("{{sawtooth 10s 0 100}}", seconds: 12.5));
    }

    [Fact]
    public void Choice_picks_only_its_options_and_keeps_json_literals_typed()
    {
        var values = RenderMany("{\"v\": \"{{choice red green 'dark blue'}}\"}", 300).ToHashSet();
        Assert.Equal(["{\"v\": \"dark blue\"}", "{\"v\": \"green\"}", "{\"v\": \"red\"}"], values.Order());
        Assert.Equal(["{\"v\": 1}", "{\"v\": 2.5}", "{\"v\": null}"], RenderMany("{\"v\": \"{{choice 1 2.5 null}}\"}", 300).ToHashSet().Order());
    }

    [Fact]
    public void Weighted_choice_follows_the_weights()
    {
        var values = RenderMany("{{weightedChoice a:3 b:1}}", 8000);
        var share = values.Count(v => v == "a") / 8000.0;
        Assert.InRange(share, 0.72, 0.78);
        Assert.All(values, v => Assert.Contains(v, new[] { "a", "b" }));
    }

    [Fact]
    public void Bool_follows_its_probability()
    {
        var share = RenderMany("{{bool 0.2}}", 8000).Count(v => v == "true") / 8000.0;
        Assert.InRange(share, 0.17, 0.23);
        Assert.Equal(["false", "true"], RenderMany("{{bool}}", 200).ToHashSet().Order());
    }

    [Fact]
    public void Timestamp_renders_iso_or_unix_time_of_the_render()
    {
        Assert.Equal("{\"t\": \"2026-01-02T03:04:06.500Z\"}", Render("{\"t\": \"{{timestamp}}\"}", seconds: 1.5));
        Assert.Equal(Start.AddSeconds(2).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), Render("{{timestamp unix}}", seconds: 2));
        Assert.Equal("{\"t\": " + Start.ToUnixTimeMilliseconds() + "}", Render("{\"t\": \"{{timestamp unixMs}}\"}"));
    }

    [Fact]
    public void Guid_is_a_version_4_guid()
    {
        var values = RenderMany("{{guid}}", 50);
        Assert.All(values, v => Assert.Equal('4', Guid.Parse(v).ToString()[14]));
        Assert.Equal(50, values.Distinct().Count());
    }

    [Fact]
    public void Every_generator_in_a_json_template_renders_valid_json()
    {
        const string source = """
            {"c": "{{counter}}", "s": "{{sequence 1 2}}", "i": "{{randomInt 1 9}}", "f": "{{randomFloat 0 1}}",
             "g": "{{gaussian 0 1}}", "sin": "{{sine 10s 1}}", "saw": "{{sawtooth 10s 0 1}}", "ch": "{{choice a b}}",
             "w": "{{weightedChoice x:1 y:2}}", "b": "{{bool}}", "t": "{{timestamp}}", "d": "{{deviceId}}", "u": "{{guid}}",
             "mixed": "{{deviceId}}/{{counter}} at {{timestamp}}"}
            """;
        var template = PayloadTemplate.Compile(source);
        Assert.Null(template.CheckJson(requireObject: true));
        var state = template.CreateState("dev", 3, Start);
        for (var i = 0; i < 100; i++)
        {
            using var document = JsonDocument.Parse(template.RenderToString(state, Start.AddSeconds(i)));
            Assert.Equal(JsonValueKind.Number, document.RootElement.GetProperty("f").ValueKind);
            Assert.Equal(JsonValueKind.String, document.RootElement.GetProperty("u").ValueKind);
        }
    }

    [Fact]
    public void Compiled_once_a_template_renders_many_messages_without_allocating()
    {
        var template = PayloadTemplate.Compile("{\"c\": \"{{counter}}\", \"i\": \"{{randomInt 1 9}}\", \"g\": \"{{gaussian 0 1}}\", \"t\": \"{{timestamp}}\", \"u\": \"{{guid}}\", \"d\": \"{{deviceId}}\", \"w\": \"{{weightedChoice a:1 b:1}}\", \"s\": \"{{sine 1m 1}}\"}");
        var state = template.CreateState("dev", 1, Start);
        var buffer = new ArrayBufferWriter<byte>(4096);
        for (var i = 0; i < 100; i++)
        {
            buffer.ResetWrittenCount();
            template.Render(buffer, state, Start);
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            buffer.ResetWrittenCount();
            template.Render(buffer, state, Start.AddMilliseconds(i));
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(10_100, state.Counter);
    }

    [Fact]
    public void Constant_templates_say_so()
    {
        Assert.True(PayloadTemplate.Compile("{\"a\": 1}").IsConstant);
        Assert.False(PayloadTemplate.Compile("{\"a\": \"{{counter}}\"}").IsConstant);
    }

    [Theory]
    [InlineData("{{countr}}", 2, "did you mean 'counter'?")]
    [InlineData("{{randomInt 1}}", 2, "takes 2 argument(s), found 1")]
    [InlineData("{{randomInt 1 x}}", 14, "expects a whole number")]
    [InlineData("{{randomInt 9 1}}", 12, "greater than the maximum")]
    [InlineData("{{gaussian 1 -2}}", 13, "must not be negative")]
    [InlineData("{{sine 0s 1}}", 7, "greater than 0")]
    [InlineData("{{sine 10 1}}", 7, "no unit")]
    [InlineData("{{weightedChoice a:0}}", 17, "positive weight")]
    [InlineData("{{bool 2}}", 7, "between 0 and 1")]
    [InlineData("{{timestamp rfc}}", 12, "iso, unix or unixMs")]
    [InlineData("ab {{counter", 3, "not closed")]
    [InlineData("{{}}", 0, "empty expression")]
    [InlineData("{{choice 'a}}", 9, "not closed")]
    public void Template_errors_carry_their_offset(string source, int offset, string expected)
    {
        Assert.False(PayloadTemplate.TryCompile(source, out _, out var errors));
        var error = Assert.Single(errors);
        Assert.Equal(offset, error.Offset);
        Assert.Contains(expected, error.Message + " " + error.Hint, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => PayloadTemplate.Compile(source));
    }

    [Fact]
    public void Every_template_error_is_reported_at_once()
    {
        Assert.False(PayloadTemplate.TryCompile("{{nope}} {{randomInt}} {{bool 3}}", out _, out var errors));
        Assert.Equal(3, errors.Count);
    }
}
