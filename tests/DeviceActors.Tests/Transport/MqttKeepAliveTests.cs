using FleetSim.DeviceActors.Transport;
using Microsoft.Extensions.Time.Testing;
using MQTTnet;

namespace FleetSim.DeviceActors.Tests.Transport;

/// <summary>The keep-alive that replaces MQTTnet's per-client 250 ms loop, in virtual time.</summary>
public sealed class MqttKeepAliveTests : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(60);
    private readonly FakeTimeProvider _time = new();
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient(); // only its identity is used
    private int _pings;
    private int _aborts;

    public void Dispose() => _client.Dispose();

    private MqttKeepAlive KeepAlive(Func<Task>? ping = null) => new(Period, _time)
    {
        Ping = (_, _) =>
        {
            _pings++;
            return ping is null ? Task.CompletedTask : ping();
        },
        Abort = _ =>
        {
            _aborts++;
            return Task.CompletedTask;
        },
    };

    [Fact]
    public void A_silent_connection_is_pinged_once_a_whole_period_has_passed_and_then_every_period()
    {
        using var keepAlive = KeepAlive();
        keepAlive.Start(_client, 1);

        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(0, _pings);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, _pings);
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(2, _pings);
        Assert.Equal(0, _aborts);
    }

    [Fact]
    public void A_packet_sent_meanwhile_postpones_the_ping_to_a_period_after_it()
    {
        using var keepAlive = KeepAlive();
        keepAlive.Start(_client, 1);

        _time.Advance(TimeSpan.FromSeconds(40));
        keepAlive.Sent(); // e.g. a telemetry PUBLISH at 40 s
        _time.Advance(TimeSpan.FromSeconds(30)); // 70 s: the timer fired at 60 s and found the connection busy
        Assert.Equal(0, _pings);
        _time.Advance(TimeSpan.FromSeconds(31)); // 101 s: silent since 40 s
        Assert.Equal(1, _pings);
    }

    [Fact]
    public void A_missing_PINGRESP_ends_that_connection_as_a_timeout()
    {
        using var keepAlive = KeepAlive(() => Task.FromException(new OperationCanceledException()));
        keepAlive.Start(_client, 7);

        _time.Advance(TimeSpan.FromSeconds(61));

        Assert.Equal(1, _aborts);
        Assert.IsType<TimeoutException>(keepAlive.FailureOf(7));
        Assert.Null(keepAlive.FailureOf(8));
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(1, _pings); // stopped: no more pings on the ended connection
    }

    [Fact]
    public void A_stopped_connection_is_not_pinged()
    {
        using var keepAlive = KeepAlive();
        keepAlive.Start(_client, 1);
        keepAlive.Stop(2); // an older or newer connection's disconnect event does not stop this one
        _time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(1, _pings);

        keepAlive.Stop(1);
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(1, _pings);
    }

    [Fact]
    public void Keep_alive_zero_means_no_pings_at_all()
    {
        using var keepAlive = new MqttKeepAlive(TimeSpan.Zero, _time) { Ping = (_, _) => Task.FromResult(_pings++) };
        keepAlive.Start(_client, 1);
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, _pings);
    }
}
