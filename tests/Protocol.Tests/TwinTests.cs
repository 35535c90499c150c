using System.Text.Json.Nodes;
using FleetSim.Protocol;

namespace FleetSim.Protocol.Tests;

public class TwinTests
{
    [Fact]
    public void Merge_is_recursive_and_null_deletes()
    {
        var target = JsonNode.Parse("""{"a":1,"b":{"c":2,"d":3},"e":4}""")!.AsObject();
        var patch = JsonNode.Parse("""{"a":10,"b":{"c":null,"x":5},"e":null,"f":{"g":null,"h":1}}""")!.AsObject();
        JsonMerge.Apply(target, patch);
        Assert.Equal("""{"a":10,"b":{"d":3,"x":5},"f":{"h":1}}""", target.ToJsonString());
    }

    [Theory]
    [InlineData("""{"a.b":1}""", "'.'")]
    [InlineData("""{"a b":1}""", "' '")]
    [InlineData("""{"n":4503599627370496}""", "outside")]
    public void Limits_reject_bad_keys_and_values(string json, string reason)
    {
        Assert.False(TwinLimits.Validate(JsonNode.Parse(json)!.AsObject(), out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void Limits_reject_depth_over_ten_and_long_strings()
    {
        var deep = JsonNode.Parse("""{"1":{"2":{"3":{"4":{"5":{"6":{"7":{"8":{"9":{"10":{"11":1}}}}}}}}}}}""")!.AsObject();
        Assert.False(TwinLimits.Validate(deep, out var error));
        Assert.Contains("deeper", error);

        var longString = new JsonObject { ["s"] = new string('x', 4097) };
        Assert.False(TwinLimits.Validate(longString, out error));
        Assert.Contains("longer", error);
    }

    [Fact]
    public void Limits_accept_a_normal_document_and_hub_metadata()
    {
        var ok = JsonNode.Parse("""{"$version":3,"fw":{"version":"1.2","ok":true,"n":[1,2]},"n":4503599627370495}""")!.AsObject();
        Assert.True(TwinLimits.Validate(ok, out _));
    }

    [Fact]
    public void Limits_reject_a_document_over_the_size_cap()
    {
        var big = new JsonObject();
        for (var i = 0; i < 20; i++)
            big[$"k{i}"] = new string('x', 2000);
        Assert.False(TwinLimits.Validate(big, out var error));
        Assert.Contains("limit is 32768", error);
    }
}
