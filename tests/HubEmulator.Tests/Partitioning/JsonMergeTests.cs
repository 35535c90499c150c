using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Partitioning;

namespace FleetSim.HubEmulator.Tests.Partitioning;

public sealed class JsonMergeTests
{
    private static JsonNode? Merge(params string?[] parts) => JsonMerge.Merge([.. parts.Select(static p => p is null ? null : JsonNode.Parse(p))]);

    [Fact]
    public void Counters_are_summed_at_every_depth_so_ingest_accounting_adds_up_exactly()
    {
        var merged = Merge(
            """{"ingested": 10, "lost": 1, "refusedByReason": {"throttled": 2}, "twin": {"gets": 3}}""",
            """{"ingested": 32, "lost": 0, "refusedByReason": {"throttled": 1, "unauthorized": 4}, "twin": {"gets": 5}}""")!;

        Assert.Equal(42, merged["ingested"]!.GetValue<long>());
        Assert.Equal(1, merged["lost"]!.GetValue<long>());
        Assert.Equal(3, merged["refusedByReason"]!["throttled"]!.GetValue<long>());
        Assert.Equal(4, merged["refusedByReason"]!["unauthorized"]!.GetValue<long>());
        Assert.Equal(8, merged["twin"]!["gets"]!.GetValue<long>());
    }

    [Fact]
    public void Lists_are_concatenated_booleans_anded_and_text_taken_from_the_first()
    {
        Assert.Equal("""[{"id":"a"},{"id":"b"},{"id":"c"}]""", Merge("""[{"id":"a"}]""", """[{"id":"b"},{"id":"c"}]""")!.ToJsonString());
        Assert.False(Merge("""{"isSuccessful": true}""", """{"isSuccessful": false}""")!["isSuccessful"]!.GetValue<bool>());
        Assert.True(Merge("""{"isSuccessful": true}""", """{"isSuccessful": true}""")!["isSuccessful"]!.GetValue<bool>());
        Assert.Equal("first", Merge("""{"status": "first"}""", """{"status": "second"}""")!["status"]!.GetValue<string>());
        Assert.Equal(1.5, Merge("1", "0.5")!.GetValue<double>());
    }

    [Fact]
    public void Missing_answers_are_skipped_and_nothing_at_all_is_null()
    {
        Assert.Equal(7, Merge(null, """{"dropped": 7}""")!["dropped"]!.GetValue<long>());
        Assert.Null(Merge(null, null));
    }
}
