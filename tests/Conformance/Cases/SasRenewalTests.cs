using FleetSim.Conformance.Tests.Harness;

namespace FleetSim.Conformance.Tests.Cases;

[Collection(ConformanceCollection.Name)]
public sealed class SasRenewalTests(ConformanceFixture fixture)
{
    [Fact]
    public async Task Short_lived_tokens_are_renewed_by_reconnecting_and_the_session_keeps_methods_and_desired_patches()
    {
        var device = await fixture.NewDeviceAsync("sasrenewal");
        var env = fixture.Environment();
        env["FLEETSIM_DEVICE_CS"] = device.ConnectionString;
        env["FLEETSIM_DEVICE_ID"] = device.Id;
        env["FLEETSIM_TOKEN_TTL_S"] = "6";
        env["FLEETSIM_TOKEN_MARGIN_S"] = "3";
        env["FLEETSIM_RENEWALS"] = "3";
        var before = await HubAssert.StatsAsync(fixture);

        var result = await fixture.RunAsync("sas-renewal.js", env, TimeSpan.FromSeconds(45));

        result.AssertPassed();
        Assert.Equal(3, result.All("tokenRenewed").Count());
        Assert.Equal(3, result.All("methodAnswered").Count());
        Assert.Equal(3, result.All("desiredReceived").Count());
        Assert.True((bool?)result.Single("summary")["outlivedFirstToken"], result.Describe());
        // Hub side: a connection per token (the first plus one per renewal), and none cut for an expired token.
        await HubAssert.StatsChangedAsync(fixture, before,
            StatChange.AtLeastBy("connectsAccepted", 4), StatChange.Exactly("disconnectsByReason.sasTokenExpired", 0), StatChange.Exactly("connectsRefused", 0));
    }
}
