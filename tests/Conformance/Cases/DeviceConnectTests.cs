using FleetSim.Conformance.Tests.Harness;

namespace FleetSim.Conformance.Tests.Cases;

[Collection(ConformanceCollection.Name)]
public sealed class DeviceConnectTests(ConformanceFixture fixture)
{
    [Fact]
    public async Task Device_connects_with_its_connection_string_once_setOptions_ca_trusts_the_hub()
    {
        var device = await fixture.NewDeviceAsync("connect");
        // No NODE_EXTRA_CA_CERTS: the only trust comes from setOptions({ ca }).
        var env = fixture.Environment(trustCaProcessWide: false);
        env["FLEETSIM_DEVICE_CS"] = device.ConnectionString;
        var before = await HubAssert.StatsAsync(fixture);

        var result = await fixture.RunAsync("connect.js", env, TimeSpan.FromSeconds(30));

        result.AssertPassed();
        var refused = result.Single("refusedWithoutCa");
        Assert.Matches("certificate|self.signed|verify", (string?)refused["message"] ?? "");
        result.Single("connected");
        result.Single("closed");
        // Hub side: the untrusting attempt never got to CONNECT (TLS failed first); the trusting one was accepted.
        await HubAssert.StatsChangedAsync(fixture, before, StatChange.Exactly("connectsAccepted", 1), StatChange.Exactly("connectsRefused", 0));
    }

    [Fact]
    public async Task A_wrong_key_is_refused_with_UnauthorizedError()
    {
        var device = await fixture.NewDeviceAsync("wrongkey");
        var env = fixture.Environment();
        env["FLEETSIM_DEVICE_CS"] = device.ConnectionString;
        var before = await HubAssert.StatsAsync(fixture);

        var result = await fixture.RunAsync("wrong-key.js", env, TimeSpan.FromSeconds(30));

        result.AssertPassed();
        result.Single("connectedWithRightKey");
        var refused = result.Single("refused");
        Assert.Equal("UnauthorizedError", (string?)refused["name"]);
        Assert.Contains("Connection refused: Not authorized", (string?)refused["message"] ?? "");
        await HubAssert.StatsChangedAsync(fixture, before,
            StatChange.Exactly("connectsAccepted", 1), StatChange.Exactly("connectsRefused", 1), StatChange.Exactly("refusedByReason.badSignature", 1));
    }
}
