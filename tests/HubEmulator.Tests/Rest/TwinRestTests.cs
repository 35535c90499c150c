using System.Net;
using System.Text.Json.Nodes;

namespace FleetSim.HubEmulator.Tests.Rest;

public sealed class TwinRestTests
{
    [Fact]
    public async Task Service_twin_get_has_the_full_shape_with_versions_and_metadata()
    {
        await using var hub = await TestHub.StartAsync();
        hub.Hub.Registry.Add("d1");

        using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Get, "twins/d1"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var twin = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        foreach (var field in new[] { "deviceId", "etag", "deviceEtag", "version", "status", "statusUpdateTime", "connectionState",
                     "lastActivityTime", "cloudToDeviceMessageCount", "authenticationType", "x509Thumbprint", "modelId", "capabilities", "tags", "properties" })
        {
            Assert.True(twin.ContainsKey(field), $"twin has {field}");
        }

        Assert.Equal("sas", (string)twin["authenticationType"]!);
        var desired = twin["properties"]!["desired"]!;
        Assert.Equal(1, (long)desired["$version"]!);
        Assert.NotNull(desired["$metadata"]!["$lastUpdated"]);
        Assert.Equal(1, (long)twin["properties"]!["reported"]!["$version"]!);
    }

    [Fact]
    public async Task Twin_of_an_unknown_device_is_404001()
    {
        await using var hub = await TestHub.StartAsync();

        using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Get, "twins/nobody"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("DeviceNotFound", response.Headers.GetValues("iothub-errorcode").Single());
    }
}
