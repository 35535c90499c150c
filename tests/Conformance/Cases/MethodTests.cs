using FleetSim.Conformance.Tests.Harness;

namespace FleetSim.Conformance.Tests.Cases;

[Collection(ConformanceCollection.Name)]
public sealed class MethodTests(ConformanceFixture fixture)
{
    [Fact]
    public async Task InvokeDeviceMethod_round_trips_status_and_payload_through_onDeviceMethod()
    {
        var device = await fixture.NewDeviceAsync("method");
        var result = await RunAsync(device, "answer");

        result.AssertPassed();
        var request = result.Single("methodRequest");
        Assert.Equal("reboot", (string?)request["methodName"]);
        Assert.Equal("conformance", (string?)request["payload"]?["reason"]);
        var invoked = result.Single("invoked");
        Assert.Equal(201, (int?)invoked["status"]);
        Assert.Equal(true, (bool?)invoked["payload"]?["rebooting"]);
        Assert.Equal(5, (int?)invoked["payload"]?["echo"]?["delay"]);
    }

    [Fact]
    public async Task Method_on_an_offline_device_is_404103()
    {
        var device = await fixture.NewDeviceAsync("offline");
        var result = await RunAsync(device, "offline");

        result.AssertPassed();
        var rejected = result.Single("rejected");
        Assert.Equal(404, (int?)rejected["statusCode"]);
        Assert.Equal("DeviceNotOnline", (string?)rejected["iothubErrorCode"]); // 404103
    }

    [Fact]
    public async Task Method_the_device_never_answers_is_504_after_the_response_timeout()
    {
        var device = await fixture.NewDeviceAsync("noanswer");
        var result = await RunAsync(device, "timeout");

        result.AssertPassed();
        result.Single("methodRequest"); // the device did get the request
        var rejected = result.Single("rejected");
        Assert.Equal(504, (int?)rejected["statusCode"]);
        Assert.Equal("GatewayTimeoutError", (string?)rejected["name"]);
        Assert.Equal("GatewayTimeout", (string?)rejected["iothubErrorCode"]); // 504101
    }

    private Task<ScriptResult> RunAsync(TestDevice device, string mode)
    {
        var env = fixture.Environment();
        env["FLEETSIM_DEVICE_CS"] = device.ConnectionString;
        env["FLEETSIM_DEVICE_ID"] = device.Id;
        return fixture.RunAsync("method.js", env, TimeSpan.FromSeconds(30), mode);
    }
}
