using FleetSim.Scenarios.Model;

namespace FleetSim.Scenarios.Tests.Parsing;

/// <summary>hub.tier/units for a named hub, hub.embedded.tier/units for the emulator, and their errors.</summary>
public sealed class HubTierTests
{
    [Fact]
    public void A_named_hub_and_the_embedded_hub_take_a_tier_and_units()
    {
        var external = Loads.Ok("""
            name: t
            hub: {connectionString: "${FLEETSIM_TEST_HUB}", tier: s2, units: 3}
            devices: {count: 1}
            duration: 1s
            """);
        var embedded = Loads.Ok("""
            name: t
            hub: {embedded: {tier: S3}}
            devices: {count: 1}
            duration: 1s
            """);

        var tier = Assert.IsType<ConnectionStringHub>(external.Hub).Tier!;
        Assert.Equal(("S2", 3, 360.0), (tier.Name, tier.Units, tier.ConnectsPerSecond));
        var emulated = Assert.IsType<EmbeddedHub>(embedded.Hub).Options.Tier!;
        Assert.Equal(("S3", 1), (emulated.Name, emulated.Units));
        Assert.Equal(5000.0 / 60, emulated.RegistryOperationsPerSecond, 6);
    }

    [Theory]
    [InlineData("hub: {embedded: {tier: S4}}", "unknown IoT Hub tier 'S4'")]
    [InlineData("hub: {embedded: {tier: F1, units: 2}}", "F1 hubs have exactly 1 unit, not 2")]
    [InlineData("hub: {embedded: {units: 2}}", "hub.embedded.units needs hub.embedded.tier")]
    [InlineData("hub: {embedded: {}, tier: S1}", "hub.tier applies only to a hub named by connectionString")]
    public void Bad_tiers_are_errors_at_their_position(string hub, string message)
    {
        var error = Loads.One($"name: t\n{hub}\ndevices: {{count: 1}}\nduration: 1s\n");

        Assert.Contains(message, error.Message);
        Assert.Equal(2, error.Line);
    }
}
