using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Parsing;

namespace FleetSim.Scenarios.Tests.Parsing;

public sealed class ErrorTests
{
    [Fact]
    public void Error_is_formatted_file_line_column_message_and_hint()
    {
        Assert.Equal("a.yaml:3:5: error: bad thing (do this)", new ScenarioError("a.yaml", 3, 5, "bad thing", "do this").ToString());
        Assert.Equal("a.yaml:3:5: error: bad thing", new ScenarioError("a.yaml", 3, 5, "bad thing").ToString());
    }

    [Fact]
    public void Unknown_key_names_its_position_and_suggests_the_closest_key()
    {
        var error = Loads.One("name: x\ndevices: {count: 10}\ndurration: 10s\nduration: 10s\n");
        Assert.Equal(("test.yaml", 3, 1), (error.File, error.Line, error.Column));
        Assert.Contains("unknown key 'durration'", error.Message, StringComparison.Ordinal);
        Assert.Equal("did you mean 'duration'?", error.Hint);
    }

    [Fact]
    public void Unknown_key_deep_inside_a_group_is_positioned_there()
    {
        var error = Loads.One("""
            name: x
            deviceGroups:
              - name: a
                count: 1
                telemetry:
                  intervall: 1s
            duration: 5s
            """);
        Assert.Equal((6, 7), (error.Line, error.Column));
        Assert.Equal("did you mean 'interval'?", error.Hint);
    }

    [Theory]
    [InlineData("count: ten", "expected a whole number")]
    [InlineData("count: 1.5", "expected a whole number")]
    [InlineData("count: -5", "out of range")]
    [InlineData("count: 0", "out of range")]
    [InlineData("count: '5'", "expected a whole number")]
    [InlineData("count: [1]", "expected a whole number, found a list")]
    public void Wrong_types_and_bad_counts_are_positioned_at_the_value(string line, string expected)
    {
        var error = Loads.One($"name: x\ndevices:\n  {line}\nduration: 1s\n");
        Assert.Equal((3, 10), (error.Line, error.Column));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("30", "no unit")]
    [InlineData("30 seconds", "unknown unit")]
    [InlineData("-5s", "negative")]
    [InlineData("soon", "not a duration")]
    [InlineData("2y", "unknown unit 'y'")]
    public void Bad_durations_say_what_a_duration_looks_like(string value, string expected)
    {
        var error = Loads.One($"name: x\ndevices: {{count: 1}}\nduration: {value}\n");
        Assert.Equal((3, 11), (error.Line, error.Column));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Durations_accept_every_unit_and_combinations()
    {
        foreach (var (text, expected) in new[] { ("500ms", 0.5), ("30s", 30), ("2m", 120), ("1h", 3600), ("1m30s", 90), ("1.5s", 1.5) })
        {
            Assert.True(DurationText.TryParse(text, out var value, out _), text);
            Assert.Equal(expected, value.TotalSeconds, 6);
        }
    }

    [Fact]
    public void Unknown_enum_value_lists_the_allowed_values_and_suggests_one()
    {
        var error = Loads.One("name: x\ndeviceGroups:\n  - {name: a, count: 1, transport: mqtts}\nduration: 1s\n");
        Assert.Contains("'mqtts' is not a valid transport", error.Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'mqtt'?", error.Hint, StringComparison.Ordinal);
        Assert.Contains("mqtt-ws", error.Hint, StringComparison.Ordinal);
        Assert.Equal((3, 36), (error.Line, error.Column));
    }

    [Fact]
    public void Out_of_range_keep_alive_is_rejected_with_the_range()
    {
        var error = Loads.One("name: x\ndeviceGroups:\n  - {name: a, count: 1, keepAlive: 30m}\nduration: 1s\n");
        Assert.Contains("out of range", error.Message, StringComparison.Ordinal);
        Assert.Equal("expected 1s to 19m37s", error.Hint);
    }

    [Theory]
    [InlineData("name: [unclosed\n", 2)]
    [InlineData("name: x\n  devices: {count: 1}\n", 2)]
    [InlineData("name: x\nname: y\n", 2)]
    [InlineData("name: \"x\n", 1)]
    [InlineData("name: x\ndevices: *missing\n", 2)]
    public void Yaml_syntax_errors_are_positioned_errors_not_exceptions(string yaml, int line)
    {
        var error = Loads.One(yaml);
        Assert.True(line == error.Line, error.ToString());
        Assert.DoesNotContain("(Line:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_error_is_reported_at_once()
    {
        var errors = Loads.Errors("""
            name: x
            deviceGroups:
              - name: a
                count: -1
                transport: tcp
              - name: b
                count: 1
                keepAlive: forever
            duration: 10
            colour: blue
            """);
        Assert.Equal(5, errors.Count);
        Assert.Equal([4, 5, 8, 9, 10], errors.Select(e => e.Line));
    }

    [Fact]
    public void Missing_required_keys_are_reported_at_their_mapping()
    {
        var errors = Loads.Errors("deviceGroups:\n  - name: a\nduration: 1s\n");
        Assert.Contains(errors, e => e.Line == 1 && e.Message.Contains("missing required key 'name'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Line == 2 && e.Column == 5 && e.Message.Contains("missing required key 'count'", StringComparison.Ordinal));
    }

    [Fact]
    public void A_scenario_without_length_asks_for_a_duration()
    {
        var error = Loads.One("name: x\ndevices: {count: 1}\n");
        Assert.Contains("needs a duration", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    public void Empty_file_is_an_error(string yaml) => Assert.Contains("empty", Loads.One(yaml).Message, StringComparison.Ordinal);

    [Fact]
    public void Second_yaml_document_is_an_error() =>
        Assert.Equal(5, Loads.One(Loads.Minimal + "\n---\nname: y\n").Line);

    [Fact]
    public void A_scalar_scenario_is_an_error() =>
        Assert.Contains("expected a mapping", Loads.One("just text\n").Message, StringComparison.Ordinal);

    [Fact]
    public void Missing_file_is_a_positioned_error()
    {
        var result = ScenarioLoader.Load(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N") + ".yaml"));
        var error = Assert.Single(result.Errors);
        Assert.Equal((1, 1), (error.Line, error.Column));
        Assert.Contains("file not found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Loading_from_a_real_file_names_the_file_in_errors()
    {
        var path = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N") + ".yaml");
        File.WriteAllText(path, "name: x\ndevices: {count: 0}\nduration: 1s\n");
        try
        {
            var error = Assert.Single(ScenarioLoader.Load(path).Errors);
            Assert.StartsWith($"{path}:2:18: error: ", error.ToString(), StringComparison.Ordinal);
            Assert.Throws<ScenarioException>(() => ScenarioLoader.Load(path).GetOrThrow());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Yes_and_no_are_not_booleans()
    {
        var error = Loads.One("name: x\ndeviceGroups:\n  - {name: a, count: 1, desired: {reportBack: yes}}\nduration: 1s\n");
        Assert.Contains("true or false", error.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Id_patterns_need_an_index_and_legal_characters()
    {
        Assert.Contains("no {index}", Loads.One("name: x\ndeviceGroups:\n  - {name: a, count: 2, idPattern: fixed}\nduration: 1s\n").Message, StringComparison.Ordinal);
        Assert.Contains("contains '/'", Loads.One("name: x\ndeviceGroups:\n  - {name: a, count: 2, idPattern: 'a/{index}'}\nduration: 1s\n").Message, StringComparison.Ordinal);
        Assert.Contains("index format", Loads.One("name: x\ndeviceGroups:\n  - {name: a, count: 2, idPattern: 'a{index:x}'}\nduration: 1s\n").Message, StringComparison.Ordinal);
        var scenario = Loads.Ok("name: x\ndeviceGroups:\n  - {name: a, count: 2, idPattern: 's-{index:00000}-x'}\nduration: 1s\n");
        Assert.Equal("s-00001-x", scenario.DeviceGroups[0].DeviceId(1));
    }

    [Fact]
    public void Groups_need_unique_names_and_ids()
    {
        var errors = Loads.Errors("""
            name: x
            deviceGroups:
              - {name: a, count: 1}
              - {name: a, count: 1, idPrefix: other-}
              - {name: b, count: 1, idPattern: "a-{index}"}
            duration: 1s
            """);
        Assert.Contains(errors, e => e.Line == 4 && e.Message.Contains("used twice", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Line == 5 && e.Message.Contains("same device ids", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_that_would_be_ignored_are_errors()
    {
        Assert.Contains("does not apply to policy fixed", Loads.One(
            "name: x\ndeviceGroups:\n  - {name: a, count: 1, retry: {policy: fixed, baseDelay: 1s}}\nduration: 1s\n").Message, StringComparison.Ordinal);
        Assert.Contains("applies only to symmetricKey", Loads.One(
            "name: x\ndeviceGroups:\n  - {name: a, count: 1, credential: x509, sasTtl: 1h}\nduration: 1s\n").Message, StringComparison.Ordinal);
        Assert.Contains("less than sasTtl", Loads.One(
            "name: x\ndeviceGroups:\n  - {name: a, count: 1, sasTtl: 1m, sasRenewalMargin: 2m}\nduration: 1s\n").Message, StringComparison.Ordinal);
        Assert.Contains("cannot be used together", Loads.One(
            "name: x\ndeviceGroups:\n  - {name: a, count: 1, telemetry: {interval: 1s, ratePerSecond: 2}}\nduration: 1s\n").Message, StringComparison.Ordinal);
        Assert.Contains("does not apply with whenDisconnected: drop", Loads.One(
            "name: x\ndeviceGroups:\n  - {name: a, count: 1, telemetry: {queue: {capacity: 5, whenDisconnected: drop}}}\nduration: 1s\n").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_method_names_and_reserved_properties_are_rejected()
    {
        Assert.Contains("not valid", Loads.One("name: x\ndeviceGroups:\n  - {name: a, count: 1, methods: {'a/b': {status: 200}}}\nduration: 1s\n").Message, StringComparison.Ordinal);
        Assert.Contains("reserved", Loads.One("name: x\ndeviceGroups:\n  - {name: a, count: 1, telemetry: {properties: {fleetsim-seq: '1'}}}\nduration: 1s\n").Message, StringComparison.Ordinal);
    }
}
