using System.Net;
using System.Text.Json.Nodes;
using FleetSim.Protocol;
using MQTTnet;

namespace FleetSim.HubEmulator.Tests.Rest;

public sealed class RegistryRestTests
{
    [Fact]
    public async Task Request_without_authorization_is_401_with_iothub_error_shape()
    {
        await using var hub = await TestHub.StartAsync();

        using var response = await hub.Http.GetAsync("devices/d1?api-version=2021-04-12");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("IotHubUnauthorizedAccess", response.Headers.GetValues("iothub-errorcode").Single());
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.StartsWith("ErrorCode:IotHubUnauthorizedAccess;", (string)body["Message"]!);
        Assert.Equal("", (string)body["ExceptionMessage"]!);
    }

    [Fact]
    public async Task Request_with_a_bad_signature_or_expired_token_is_401()
    {
        await using var hub = await TestHub.StartAsync();
        var wrongKey = new ServiceConnectionString(hub.Hub.HostName, "iothubowner", Convert.ToBase64String(new byte[32]));

        foreach (var token in new[]
                 {
                     wrongKey.CreateSasToken(TimeSpan.FromHours(1), DateTimeOffset.UtcNow),
                     hub.Service.CreateSasToken(TimeSpan.FromHours(1), DateTimeOffset.UtcNow.AddHours(-2)),
                     SasToken.Create(hub.Hub.HostName, hub.Service.SharedAccessKey, DateTimeOffset.UtcNow.AddHours(1), "registryRead"),
                 })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "devices/d1?api-version=2021-04-12");
            request.Headers.TryAddWithoutValidation("Authorization", token);
            using var response = await hub.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task Put_creates_a_device_with_generated_keys_and_get_returns_it()
    {
        await using var hub = await TestHub.StartAsync();

        using var put = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Put, "devices/d1",
            """{"deviceId":"d1","status":"enabled","authentication":{"type":"sas","symmetricKey":{"primaryKey":"","secondaryKey":""}},"capabilities":{"iotEdge":false}}"""));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var created = JsonNode.Parse(await put.Content.ReadAsStringAsync())!;
        var primaryKey = (string)created["authentication"]!["symmetricKey"]!["primaryKey"]!;
        Assert.Equal(32, Convert.FromBase64String(primaryKey).Length);
        Assert.NotEqual(primaryKey, (string)created["authentication"]!["symmetricKey"]!["secondaryKey"]!);
        Assert.False(string.IsNullOrEmpty((string)created["etag"]!));
        Assert.Equal("Disconnected", (string)created["connectionState"]!);

        using var get = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Get, "devices/d1"));
        var fetched = JsonNode.Parse(await get.Content.ReadAsStringAsync())!;
        Assert.Equal("d1", (string)fetched["deviceId"]!);
        Assert.Equal(primaryKey, (string)fetched["authentication"]!["symmetricKey"]!["primaryKey"]!);
        Assert.Equal((string)created["generationId"]!, (string)fetched["generationId"]!);
    }

    [Fact]
    public async Task Put_keeps_given_keys_and_the_device_connects_with_them()
    {
        await using var hub = await TestHub.StartAsync();
        var key = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());

        using var put = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Put, "devices/d1",
            "{\"deviceId\":\"d1\",\"authentication\":{\"symmetricKey\":{\"primaryKey\":\"" + key + "\"}}}"));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        var token = SasToken.Create($"{hub.Hub.HostName}/devices/d1", key, DateTimeOffset.UtcNow.AddHours(1));
        Assert.Equal(0, await hub.RawConnectAsync("d1", MqttUsername.Build(hub.Hub.HostName, "d1"), token));
    }

    [Fact]
    public async Task Get_of_an_unknown_device_is_404001_DeviceNotFound()
    {
        await using var hub = await TestHub.StartAsync();

        using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Get, "devices/nobody"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("DeviceNotFound", response.Headers.GetValues("iothub-errorcode").Single());
        Assert.StartsWith("ErrorCode:DeviceNotFound;", (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["Message"]!);
    }

    [Fact]
    public async Task Put_of_an_existing_device_needs_if_match()
    {
        await using var hub = await TestHub.StartAsync();
        var etag = hub.Hub.Registry.Add("d1").ETag;

        using var again = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Put, "devices/d1", """{"deviceId":"d1"}"""));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("DeviceAlreadyExists", again.Headers.GetValues("iothub-errorcode").Single());

        var stale = hub.ServiceRequest(HttpMethod.Put, "devices/d1", """{"deviceId":"d1","status":"disabled"}""");
        stale.Headers.TryAddWithoutValidation("If-Match", "\"bm9wZQ==\"");
        using var staleResponse = await hub.Http.SendAsync(stale);
        Assert.Equal(HttpStatusCode.PreconditionFailed, staleResponse.StatusCode);

        var update = hub.ServiceRequest(HttpMethod.Put, "devices/d1", """{"deviceId":"d1","status":"disabled"}""");
        update.Headers.TryAddWithoutValidation("If-Match", $"\"{etag}\"");
        using var updated = await hub.Http.SendAsync(update);
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal("disabled", (string)JsonNode.Parse(await updated.Content.ReadAsStringAsync())!["status"]!);
    }

    [Fact]
    public async Task Put_with_an_invalid_body_or_id_is_400_ArgumentInvalid()
    {
        await using var hub = await TestHub.StartAsync();

        foreach (var (path, body) in new[]
                 {
                     ("devices/d1", "not json"),
                     ("devices/d1", """{"deviceId":"d2"}"""),
                     ("devices/d1", """{"status":"sleeping"}"""),
                     ("devices/d1", """{"authentication":{"symmetricKey":{"primaryKey":"short"}}}"""),
                     ("devices/bad%2Bid", "{}"),
                 })
        {
            using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Put, path, body));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("ArgumentInvalid", response.Headers.GetValues("iothub-errorcode").Single());
        }

        Assert.Equal(0, hub.Hub.Registry.Count);
    }

    [Fact]
    public async Task Delete_removes_the_device_and_closes_its_connection()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;

        using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Delete, "devices/d1"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Null(hub.Hub.Registry.Find("d1"));
        await TestHub.Eventually(() => !client.IsConnected, "the removed device is disconnected");
    }

    [Fact]
    public async Task A_device_identity_prints_without_its_keys()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");

        var printed = device.ToString();
        Assert.Contains("d1", printed);
        Assert.DoesNotContain(device.PrimaryKey!, printed);
        Assert.DoesNotContain(device.SecondaryKey!, printed);
    }

    [Fact]
    public async Task Stats_report_ingest_and_connections()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;
        await client.PublishStringAsync("devices/d1/messages/events/fleetsim-seq=2", "x", MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce);

        using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Get, "fleetsim/stats"));

        var stats = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(1, (long)stats["ingested"]!);
        Assert.Equal(1, (long)stats["lost"]!);
        Assert.Equal(1, (long)stats["devicesRegistered"]!);
        Assert.Equal(1, (long)stats["devicesConnected"]!);
        Assert.Equal(1, (long)stats["connectsAccepted"]!);
        Assert.Equal(0, (long)stats["connectsRefused"]!);
    }
}
