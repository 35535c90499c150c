using FleetSim.HubEmulator.Ingest;
using Microsoft.Extensions.Time.Testing;

namespace FleetSim.HubEmulator.Tests.Ingest;

/// <summary>A standing hub forgets the per-run counts of runs idle for the timeout (sweeps on virtual time).</summary>
public sealed class RunIngestRetentionTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(10);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch);

    private void Advance(TimeSpan by)
    {
        // One sweep period (a tenth of the timeout) at a time, so every sweep runs.
        for (var t = TimeSpan.Zero; t < by; t += Idle / 10)
        {
            _time.Advance(Idle / 10);
        }
    }

    /// <summary>As the hub counts a message: hub-wide and within its run.</summary>
    private static void Send(DeviceIngestCounter device, string run, long sequence)
    {
        device.Record(sequence);
        device.ForRun(run)!.Record(sequence);
    }

    [Fact]
    public void A_run_idle_longer_than_the_timeout_is_forgotten_and_others_are_kept()
    {
        var ingest = new IngestAccounting(_time, Idle);
        var device = ingest.CounterFor("d1");
        Send(device, "old", 1);
        Send(device, "old", 2);
        Advance(TimeSpan.FromMinutes(5));
        Send(device, "recent", 1);

        Advance(TimeSpan.FromMinutes(8)); // "old" idle for 13 min (at most 12 seen by the sweeps), "recent" for 8

        Assert.Equal(default, ingest.ForRun("old"));
        Assert.Equal(1, ingest.ForRun("recent").Ingested);
        Assert.Equal(1, ingest.RunsKept);
        Assert.Equal(3, ingest.Totals.Ingested); // hub-wide counts are per device, not per run: kept
    }

    [Fact]
    public void A_run_still_sending_is_kept_past_the_timeout()
    {
        var ingest = new IngestAccounting(_time, Idle);
        var device = ingest.CounterFor("d1");
        for (var s = 1; s <= 30; s++)
        {
            device.ForRun("long")!.Record(s); // cached counter: the sweep sees the count move, not the call
            Advance(TimeSpan.FromMinutes(1));
        }

        var totals = ingest.ForRun("long");
        Assert.Equal((30, 0L, 0L), (totals.Ingested, totals.Lost, totals.Duplicated));
    }

    [Fact]
    public void Reading_a_runs_stats_keeps_it()
    {
        var ingest = new IngestAccounting(_time, Idle);
        ingest.CounterFor("d1").ForRun("polled")!.Record(1);
        for (var i = 0; i < 3; i++)
        {
            Advance(TimeSpan.FromMinutes(8));
            Assert.Equal(1, ingest.ForRun("polled").Ingested);
        }
    }

    [Fact]
    public void A_device_sending_for_a_forgotten_run_starts_it_afresh()
    {
        var ingest = new IngestAccounting(_time, Idle);
        var device = ingest.CounterFor("d1");
        device.ForRun("r")!.Record(1);
        device.ForRun("r")!.Record(2);
        Advance(TimeSpan.FromMinutes(12));
        Assert.Equal(0, ingest.RunsKept);

        device.ForRun("r")!.Record(3); // the device's cached counter belonged to the forgotten run

        var totals = ingest.ForRun("r");
        Assert.Equal(1, ingest.RunsKept);
        Assert.Equal((1L, 1), (totals.Ingested, totals.Devices));
    }
}
