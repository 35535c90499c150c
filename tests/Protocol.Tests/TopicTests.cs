using FleetSim.Protocol;

namespace FleetSim.Protocol.Tests;

public class TopicTests
{
    [Fact]
    public void Device_topics_are_built_once_with_the_documented_shapes()
    {
        var topics = new DeviceTopics("d1");
        Assert.Equal("devices/d1/messages/events/", topics.Telemetry(null));
        Assert.Equal("devices/d1/messages/events/a=1", topics.Telemetry("a=1"));
        Assert.Equal("devices/d1/messages/devicebound/#", topics.C2dSubscription);
        Assert.Equal("devices/d1/messages/devicebound/", topics.C2d(null));
    }

    [Fact]
    public void Telemetry_topic_parses_device_module_and_bag()
    {
        Assert.True(TelemetryTopic.TryParse("devices/d1/messages/events/%24.mid=7&fleetsim-seq=3", out var id, out var module, out var bag));
        Assert.Equal("d1", id);
        Assert.Null(module);
        Assert.Equal("%24.mid=7&fleetsim-seq=3", bag);

        Assert.True(TelemetryTopic.TryParse("devices/d1/modules/m1/messages/events/", out id, out module, out bag));
        Assert.Equal(("d1", "m1", ""), (id, module, bag));
    }

    [Theory]
    [InlineData("devices/d1/messages/eventsX/")]
    [InlineData("devices//messages/events/")]
    [InlineData("devices/a/b/messages/events/")]
    [InlineData("$iothub/twin/GET/?$rid=1")]
    public void Non_telemetry_topics_are_not_telemetry(string topic)
    {
        Assert.False(TelemetryTopic.TryParse(topic, out _, out _, out _));
    }

    [Fact]
    public void Property_bag_round_trips_system_and_application_properties()
    {
        var props = new List<KeyValuePair<string, string?>>
        {
            new(SystemProperties.MessageId, "m/1"),
            new(SystemProperties.ContentType, "application/json"),
            new("temp unit", "°C"),
            new("flag", null),
            new("empty", ""),
        };
        var encoded = PropertyBag.Encode(props);
        Assert.StartsWith("%24.mid=m%2F1&%24.ct=application%2Fjson", encoded);
        Assert.Contains("&flag&", encoded);
        Assert.EndsWith("&empty=", encoded);
        Assert.Equal(props, PropertyBag.Decode(encoded));
    }

    [Fact]
    public void Property_bag_finds_one_raw_value_without_decoding()
    {
        Assert.True(PropertyBag.TryGetValue("%24.mid=1&fleetsim-seq=42&x=y", FleetSimProperties.Sequence, out var value));
        Assert.Equal("42", value.ToString());
        Assert.False(PropertyBag.TryGetValue("fleetsim-seqx=1", FleetSimProperties.Sequence, out _));
    }

    [Fact]
    public void C2d_topic_parses_device_and_bag()
    {
        Assert.True(C2dTopic.TryParse("devices/d1/messages/devicebound/%24.mid=x&iothub-ack=full", out var id, out var bag));
        Assert.Equal("d1", id);
        Assert.Equal("%24.mid=x&iothub-ack=full", bag);
    }

    [Fact]
    public void Twin_topics_build_and_parse()
    {
        Assert.Equal("$iothub/twin/GET/?$rid=5", TwinTopics.Get("5"));
        Assert.Equal("$iothub/twin/PATCH/properties/reported/?$rid=6", TwinTopics.PatchReported("6"));
        Assert.Equal("$iothub/twin/res/204/?$rid=6&$version=3", TwinTopics.Response(204, "6", 3));

        Assert.True(TwinTopics.TryParseResponse("$iothub/twin/res/204/?$rid=6&$version=3", out var status, out var rid, out var version));
        Assert.Equal((204, "6", (long?)3), (status, rid, version));
        Assert.True(TwinTopics.TryParseResponse("$iothub/twin/res/200/?$rid=abc", out status, out rid, out version));
        Assert.Equal((200, "abc", (long?)null), (status, rid, version));
        Assert.False(TwinTopics.TryParseResponse("$iothub/twin/res/200?$rid=abc", out _, out _, out _));

        Assert.True(TwinTopics.TryParseDesiredPatch(TwinTopics.DesiredPatch(12), out var v));
        Assert.Equal(12, v);

        Assert.True(TwinTopics.TryParseRequest("$iothub/twin/GET/?$rid=1", out var kind, out rid));
        Assert.Equal((TwinRequestKind.Get, "1"), (kind, rid));
        Assert.True(TwinTopics.TryParseRequest("$iothub/twin/PATCH/properties/reported/?$rid=2", out kind, out rid));
        Assert.Equal((TwinRequestKind.PatchReported, "2"), (kind, rid));
        Assert.False(TwinTopics.TryParseRequest("$iothub/twin/GET/", out _, out _));
        Assert.False(TwinTopics.TryParseRequest("$iothub/twin/DELETE/?$rid=1", out _, out _));
    }

    [Fact]
    public void Method_topics_build_and_parse()
    {
        Assert.Equal("$iothub/methods/POST/reboot/?$rid=9", MethodTopics.Request("reboot", "9"));
        Assert.True(MethodTopics.TryParseRequest("$iothub/methods/POST/reboot/?$rid=9", out var name, out var rid));
        Assert.Equal(("reboot", "9"), (name, rid));
        Assert.Equal("$iothub/methods/res/200/?$rid=9", MethodTopics.Response(200, "9"));
        Assert.True(MethodTopics.TryParseResponse("$iothub/methods/res/404/?$rid=9", out var status, out rid));
        Assert.Equal((404, "9"), (status, rid));
        Assert.False(MethodTopics.TryParseResponse("$iothub/methods/res/abc/?$rid=9", out _, out _));
        Assert.False(MethodTopics.TryParseRequest("$iothub/methods/POST/reboot", out _, out _));
    }

    [Fact]
    public void Username_builds_like_the_node_sdk_and_parses_in_any_order()
    {
        var name = MqttUsername.Build("h", "d1", productInfo: "FleetSim/1.0 (x)", modelId: "dtmi:a;1");
        Assert.Equal("h/d1/?api-version=2021-04-12&DeviceClientType=FleetSim%2F1.0%20%28x%29&model-id=dtmi:a;1", name);

        Assert.True(MqttUsername.TryParse(name, out var host, out var client, out var parameters));
        Assert.Equal(("h", "d1"), (host, client));
        Assert.Equal("FleetSim/1.0 (x)", parameters["DeviceClientType"]);

        Assert.True(MqttUsername.TryParse("h/d1/m1/?DeviceClientType=x&api-version=2019-10-01", out host, out client, out parameters));
        Assert.Equal(("h", "d1/m1", "2019-10-01"), (host, client, parameters["api-version"]));
        Assert.True(MqttUsername.TryParse("h/d1", out _, out client, out _));
        Assert.Equal("d1", client);
        Assert.False(MqttUsername.TryParse("nohost", out _, out _, out _));
    }

    [Fact]
    public void Message_size_counts_body_and_property_names_and_values_but_not_system_names()
    {
        var props = new[] { new KeyValuePair<string, string?>("$.mid", "abc"), new KeyValuePair<string, string?>("k", "vv") };
        Assert.Equal(100 + 3 + 1 + 2, MessageLimits.MessageSize(100, props));
    }
}
