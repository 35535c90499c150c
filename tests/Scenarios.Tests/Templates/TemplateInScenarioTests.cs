using FleetSim.Scenarios.Tests.Parsing;

namespace FleetSim.Scenarios.Tests.Templates;

public sealed class TemplateInScenarioTests
{
    private static string Group(string telemetry) => $"name: x\ndeviceGroups:\n  - name: a\n    count: 1\n    telemetry:\n{telemetry}\nduration: 1s\n";

    [Fact]
    public void Error_in_a_single_line_template_points_at_the_expression()
    {
        var error = Loads.One(Group("      payload: '{\"t\": \"{{gausian 1 2}}\"}'"));
        Assert.Equal((6, 26), (error.Line, error.Column));
        Assert.Contains("unknown generator 'gausian'", error.Message, StringComparison.Ordinal);
        Assert.Equal("did you mean 'gaussian'?", error.Hint);
    }

    [Fact]
    public void Error_in_a_block_template_points_at_its_line_and_column()
    {
        var error = Loads.One(Group("      payload: |\n        {\n          \"t\": \"{{randomInt 5}}\"\n        }"));
        Assert.Equal((8, 19), (error.Line, error.Column));
    }

    [Fact]
    public void Error_in_a_mapping_template_points_at_the_scalar()
    {
        var error = Loads.One(Group("      payload:\n        ok: 1\n        bad: \"{{choise a b}}\""));
        Assert.Equal((8, 17), (error.Line, error.Column));
        Assert.Equal("did you mean 'choice'?", error.Hint);
    }

    [Fact]
    public void Mapping_templates_become_json_with_typed_scalars()
    {
        var scenario = Loads.Ok(Group("      payload:\n        n: \"{{counter}}\"\n        on: true\n        v: 1.5\n        s: text\n        q: '12'\n        list: [1, \"{{randomInt 3 3}}\"]"));
        var template = scenario.DeviceGroups[0].Telemetry!.Payload;
        var text = template.RenderToString(template.CreateState("d", 1, DateTimeOffset.UnixEpoch), DateTimeOffset.UnixEpoch);
        Assert.Equal("{\"n\": 1, \"on\": true, \"v\": 1.5, \"s\": \"text\", \"q\": \"12\", \"list\": [1, 3]}", text);
    }

    [Fact]
    public void Json_templates_that_do_not_render_json_are_errors()
    {
        Assert.Contains("is not valid JSON", Loads.One(Group("      payload: '{\"t\": }'")).Message, StringComparison.Ordinal);
        Assert.Contains("must be a JSON object", Loads.One(
            "name: x\ndeviceGroups:\n  - {name: a, count: 1, reported: {interval: 1s, template: '[1]'}}\nduration: 1s\n").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_content_type_allows_any_text()
    {
        var scenario = Loads.Ok(Group("      contentType: text/plain\n      payload: 'reading {{counter}}'"));
        Assert.Equal("text/plain", scenario.DeviceGroups[0].Telemetry!.ContentType);
    }

    [Fact]
    public void Default_telemetry_is_json_with_a_counter_at_one_per_second()
    {
        var telemetry = Loads.Ok(Group("      inFlight: 2")).DeviceGroups[0].Telemetry!;
        Assert.Equal(("application/json", "utf-8", TimeSpan.FromSeconds(1), 2), (telemetry.ContentType, telemetry.ContentEncoding, telemetry.Interval, telemetry.InFlight));
        Assert.Equal("{\"n\": 1}", telemetry.Payload.RenderToString(telemetry.Payload.CreateState("d", 1, DateTimeOffset.UnixEpoch), DateTimeOffset.UnixEpoch));
    }

    [Fact]
    public void Property_templates_with_generators_are_rendered_per_message_and_constants_once_per_group()
    {
        var scenario = Loads.Ok("name: x\ndeviceGroups:\n  - name: a\n    count: 50\n    telemetry:\n      properties: {site: \"{{choice north south}}\", n: \"{{counter}}\", kind: reading}\nduration: 1s\n");
        var endpoint = new FleetSim.Scenarios.Running.DeviceEndpoint("localhost", "127.0.0.1", 8883, 443, null);
        var telemetry = FleetSim.Scenarios.Running.FleetPlanBuilder.Options(scenario.DeviceGroups[0], endpoint, 7, TimeProvider.System).Telemetry!;

        Assert.Equal([new KeyValuePair<string, string?>("kind", "reading")], telemetry.Properties);
        var dynamic = telemetry.DynamicProperties!;
        var sites = new HashSet<string?>();
        for (var device = 0; device < 50; device++)
        {
            var first = dynamic.Render(device, 1);
            var second = dynamic.Render(device, 2);
            Assert.Equal(["site", "n"], first.Select(p => p.Key));
            Assert.Equal(("1", "2"), (first[1].Value, second[1].Value)); // each device counts its own messages
            sites.Add(first[0].Value);
            sites.Add(second[0].Value);
        }
        Assert.Equal(["north", "south"], sites.Order()); // not one value for the whole group
    }

    [Fact]
    public void Method_payload_templates_with_generators_are_rendered_per_answer_and_device()
    {
        var scenario = Loads.Ok("name: x\ndeviceGroups:\n  - name: a\n    count: 3\n    idPrefix: m-\n    methods:\n      status: {payload: '{\"id\": \"{{deviceId}}\", \"n\": \"{{counter}}\"}'}\n      fixed: {payload: '{\"ok\": true}'}\nduration: 1s\n");
        var endpoint = new FleetSim.Scenarios.Running.DeviceEndpoint("localhost", "127.0.0.1", 8883, 443, null);
        var methods = FleetSim.Scenarios.Running.FleetPlanBuilder.Options(scenario.DeviceGroups[0], endpoint, 7, TimeProvider.System).Methods!;

        var status = methods.Handlers["status"].PayloadFactory!;
        string Text(int device, long count) => System.Text.Encoding.UTF8.GetString(status.Create(device, count));
        Assert.Equal("{\"id\": \"m-2\", \"n\": 1}", Text(2, 1));
        Assert.Equal("{\"id\": \"m-2\", \"n\": 2}", Text(2, 2));
        Assert.Equal("{\"id\": \"m-0\", \"n\": 1}", Text(0, 1));
        Assert.Null(methods.Handlers["fixed"].PayloadFactory); // a constant is encoded once
        Assert.Equal("{\"ok\": true}", methods.Handlers["fixed"].PayloadJson);
    }
}
