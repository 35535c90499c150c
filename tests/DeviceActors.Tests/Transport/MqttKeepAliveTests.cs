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

    [Fact]
    public void Connections_started_at_different_times_are_each_pinged_a_period_after_their_own_silence_began_at_most_one_tick_late()
    {
        var starts = new[] { TimeSpan.Zero, TimeSpan.FromSeconds(10.3), TimeSpan.FromSeconds(20.7) };
        var pinged = new TimeSpan?[starts.Length];
        var keepAlives = new MqttKeepAlive[starts.Length];
        var clients = new IMqttClient[starts.Length];
        var began = _time.GetUtcNow();
        for (var i = 0; i < starts.Length; i++)
        {
            var index = i;
            clients[i] = new MqttClientFactory().CreateMqttClient();
            keepAlives[i] = new MqttKeepAlive(Period, _time)
            {
                Ping = (_, _) =>
                {
                    pinged[index] ??= _time.GetUtcNow() - began;
                    return Task.CompletedTask;
                },
            };
        }

        try
        {
            for (var step = TimeSpan.Zero; step <= TimeSpan.FromSeconds(90); step += TimeSpan.FromMilliseconds(100))
            {
                for (var i = 0; i < starts.Length; i++)
                {
                    if (starts[i] == step)
                        keepAlives[i].Start(clients[i], 1);
                }

                _time.Advance(TimeSpan.FromMilliseconds(100));
            }

            for (var i = 0; i < starts.Length; i++)
            {
                Assert.NotNull(pinged[i]);
                var silent = pinged[i]!.Value - starts[i];
                Assert.InRange(silent, Period, Period + KeepAliveWheel.Tick);
            }
        }
        finally
        {
            foreach (var keepAlive in keepAlives)
                keepAlive.Dispose();
            foreach (var client in clients)
                client.Dispose();
        }
    }

    [Fact]
    public void A_restarted_connection_is_pinged_once_per_period_and_stopped_ones_leave_the_wheel()
    {
        using var keepAlive = KeepAlive();
        keepAlive.Start(_client, 1);
        _time.Advance(TimeSpan.FromSeconds(30));
        keepAlive.Stop(1);
        keepAlive.Start(_client, 2); // a reconnect 30 s in: its silence begins now, the old check finds nothing to do

        _time.Advance(TimeSpan.FromSeconds(31)); // 61 s: the first connection's time
        Assert.Equal(0, _pings);
        _time.Advance(TimeSpan.FromSeconds(30)); // 91 s: the second's
        Assert.Equal(1, _pings);

        keepAlive.Stop(2);
        _time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(1, _pings);
        Assert.Equal(0, KeepAliveWheel.For(_time).Count);
    }

    [Fact]
    public void Thousands_of_connections_share_the_wheel_and_each_is_pinged_once_per_silent_period()
    {
        const int Connections = 2000;
        var pings = 0;
        var keepAlives = new List<MqttKeepAlive>();
        try
        {
            for (var i = 0; i < Connections; i++)
            {
                var keepAlive = new MqttKeepAlive(Period, _time) { Ping = (_, _) => Task.FromResult(Interlocked.Increment(ref pings)) };
                keepAlive.Start(_client, 1);
                keepAlives.Add(keepAlive);
                if (i % 100 == 99)
                    _time.Advance(TimeSpan.FromSeconds(1)); // connected over 20 s
            }

            _time.Advance(TimeSpan.FromSeconds(61));
            Assert.Equal(Connections, pings);
            _time.Advance(TimeSpan.FromSeconds(60));
            Assert.Equal(2 * Connections, pings);
            Assert.Equal(Connections, KeepAliveWheel.For(_time).Count); // one pending check each, no duplicates
        }
        finally
        {
            foreach (var keepAlive in keepAlives)
                keepAlive.Dispose();
        }
    }
}
