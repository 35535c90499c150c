using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Partitioning;
using FleetSim.Protocol;

namespace FleetSim.HubEmulator.Tests.Partitioning;

public sealed class FrontRoutesTests
{
    [Theory]
    [InlineData("PUT", "/devices/d1", "d1")]
    [InlineData("GET", "/devices/d1", "d1")]
    [InlineData("DELETE", "/devices/d1", "d1")]
    [InlineData("POST", "/devices/d1/messages/deviceBound", "d1")]
    [InlineData("GET", "/twins/d1", "d1")]
    [InlineData("PATCH", "/twins/d1", "d1")]
    [InlineData("POST", "/twins/d1/methods", "d1")]
    [InlineData("GET", "/fleetsim/devices/d1/telemetry/last", "d1")]
    [InlineData("GET", "/fleetsim/devices/d1/messages", "d1")]
    public void Device_scoped_requests_go_to_the_owner(string method, string path, string device)
    {
        Assert.Equal(new FrontDecision(FrontRouteKind.Owner, device), FrontRoutes.Default.Resolve(method, path));
    }

    [Theory]
    [InlineData("GET", "/fleetsim/stats", FrontRouteKind.FanOut)]
    [InlineData("GET", "/devices", FrontRouteKind.FanOut)]
    [InlineData("POST", "/devices/query", FrontRouteKind.FanOut)]
    [InlineData("POST", "/devices", FrontRouteKind.SplitById)]
    [InlineData("POST", "/fleetsim/faults/drop", FrontRouteKind.Fault)]
    [InlineData("GET", "/statistics/devices", FrontRouteKind.FanOut)]
    [InlineData("GET", "/jobs/v2/job-1", FrontRouteKind.FanOut)]
    public void Fleet_wide_and_unknown_requests_fan_out(string method, string path, FrontRouteKind kind)
    {
        Assert.Equal(kind, FrontRoutes.Default.Resolve(method, path).Kind);
    }

    [Fact]
    public void A_row_added_to_the_table_is_tried_first()
    {
        var routes = FrontRoutes.Default.With(new FrontRoute("GET", "devices/{id}/special", FrontRouteKind.FanOut));

        Assert.Equal(FrontRouteKind.FanOut, routes.Resolve("GET", "/devices/d1/special").Kind);
        Assert.Equal(FrontRouteKind.Owner, routes.Resolve("GET", "/devices/d1").Kind);
    }

    [Fact]
    public void A_bulk_body_is_split_by_the_partition_of_each_id()
    {
        var ids = Enumerable.Range(0, 20).Select(static i => $"bulk-{i}").ToList();
        var body = new JsonArray([.. ids.Select(static id => (JsonNode)new JsonObject { ["id"] = id, ["importMode"] = "create" })]);

        var split = FrontRoutes.Split(body, 3, out var error)!;

        Assert.Null(error);
        Assert.Equal(20, split.Values.Sum(static a => a.Count));
        foreach (var (partition, items) in split)
            Assert.All(items, item => Assert.Equal(partition, HubPartitions.PartitionOf(item!["id"]!.GetValue<string>(), 3)));
    }

    [Fact]
    public void A_bulk_body_that_is_no_list_of_ids_is_refused_with_the_reason()
    {
        Assert.Null(FrontRoutes.Split(JsonNode.Parse("""{"id": "a"}"""), 2, out var notList));
        Assert.Contains("JSON array", notList, StringComparison.Ordinal);
        Assert.Null(FrontRoutes.Split(JsonNode.Parse("""[{"id": "a"}, {"name": "b"}]"""), 2, out var noId));
        Assert.Contains("item 1", noId, StringComparison.Ordinal);
    }
}
