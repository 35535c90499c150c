using FleetSim.HubEmulator.Faults;

namespace FleetSim.HubEmulator.Tests.Faults;

public sealed class TimedFaultTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_fault_is_on_from_its_start_until_its_end_exclusive()
    {
        var fault = new TimedFault<int>();
        var end = fault.Start(T0, TimeSpan.FromSeconds(10), 7);

        Assert.Equal(T0.AddSeconds(10), end);
        Assert.True(fault.IsOn(T0));
        Assert.True(fault.IsOn(end.AddTicks(-1)));
        Assert.False(fault.IsOn(end));
        Assert.True(fault.Hits("d1", end.AddTicks(-1), out var value));
        Assert.Equal(7, value);
        Assert.False(fault.Hits("d1", end, out _));
    }

    [Fact]
    public void A_fault_never_started_or_ended_hits_nobody()
    {
        var fault = new TimedFault<int>();
        Assert.False(fault.IsOn(T0));
        Assert.False(fault.Hits("d1", T0));

        fault.Start(T0, TimeSpan.FromMinutes(1), 1);
        fault.End();

        Assert.False(fault.IsOn(T0.AddSeconds(1)));
        Assert.False(fault.Hits("d1", T0.AddSeconds(1)));
    }

    [Fact]
    public void A_new_start_replaces_the_window_its_target_and_its_parameters()
    {
        var fault = new TimedFault<int>();
        fault.Start(T0, TimeSpan.FromMinutes(10), 1, FaultTarget.Of(["a-*"]));
        fault.Start(T0.AddSeconds(1), TimeSpan.FromSeconds(5), 2, FaultTarget.Of(["b-1"]));

        Assert.False(fault.Hits("a-1", T0.AddSeconds(2)));
        Assert.True(fault.Hits("b-1", T0.AddSeconds(2), out var value));
        Assert.Equal(2, value);
        Assert.False(fault.IsOn(T0.AddSeconds(6))); // the shorter window won: not the first start's ten minutes
    }

    [Fact]
    public void A_targeted_fault_hits_only_its_devices_and_no_unknown_connection()
    {
        var fault = new TimedFault<bool>();
        fault.Start(T0, TimeSpan.FromSeconds(10), true, FaultTarget.Of(["sensor-*", "gw-1"]));

        Assert.True(fault.Hits("sensor-42", T0));
        Assert.True(fault.Hits("gw-1", T0));
        Assert.False(fault.Hits("gw-2", T0));
        Assert.False(fault.Hits(null, T0));
        Assert.True(fault.IsOn(T0)); // on, though not for everyone
    }

    [Fact]
    public void A_fault_for_everyone_hits_unknown_connections_too()
    {
        var fault = new TimedFault<bool>();
        fault.Start(T0, TimeSpan.FromSeconds(10), true);

        Assert.True(fault.Hits(null, T0));
        Assert.True(fault.Hits("anyone", T0));
    }

    [Theory]
    [InlineData(0.0, 80)]
    [InlineData(0.5, 100)]
    [InlineData(0.75, 110)]
    public void Latency_spreads_a_uniform_draw_over_by_plus_or_minus_jitter(double unit, int expectedMs)
    {
        var latency = new Latency(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(20));
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), latency.At(unit));
    }

    [Fact]
    public void Latency_never_goes_below_zero()
    {
        Assert.Equal(TimeSpan.Zero, new Latency(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50)).At(0));
        Assert.Equal(TimeSpan.FromMilliseconds(10), new Latency(TimeSpan.FromMilliseconds(10), TimeSpan.Zero).At(0.9));
    }
}
