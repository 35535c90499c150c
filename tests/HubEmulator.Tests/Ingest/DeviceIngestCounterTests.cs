using FleetSim.HubEmulator.Ingest;

namespace FleetSim.HubEmulator.Tests.Ingest;

public sealed class DeviceIngestCounterTests
{
    private static DeviceIngest Feed(params long[] sequence)
    {
        var counter = new DeviceIngestCounter("d");
        foreach (var s in sequence)
        {
            counter.Record(s);
        }

        return counter.Snapshot();
    }

    [Fact]
    public void In_order_sequence_has_no_loss_duplicates_or_reordering()
    {
        var s = Feed(1, 2, 3, 4, 5);
        Assert.Equal((5, 0, 0, 0, 5), (s.Ingested, s.Lost, s.Duplicated, s.OutOfOrder, s.HighestSequence));
    }

    [Fact]
    public void A_gap_counts_as_lost()
    {
        var s = Feed(1, 2, 5, 6);
        Assert.Equal((4, 2, 0, 0), (s.Ingested, s.Lost, s.Duplicated, s.OutOfOrder));
    }

    [Fact]
    public void A_late_arrival_moves_one_from_lost_to_out_of_order()
    {
        var s = Feed(1, 3, 2);
        Assert.Equal((3, 0, 0, 1), (s.Ingested, s.Lost, s.Duplicated, s.OutOfOrder));
    }

    [Fact]
    public void A_repeat_counts_as_duplicate_both_in_order_and_after_a_gap()
    {
        Assert.Equal(1, Feed(1, 2, 2, 3).Duplicated);
        var s = Feed(1, 4, 2, 2, 4);
        Assert.Equal((5, 1, 2, 1), (s.Ingested, s.Lost, s.Duplicated, s.OutOfOrder));
    }

    [Fact]
    public void A_number_older_than_the_window_counts_as_duplicate()
    {
        var counter = new DeviceIngestCounter("d");
        counter.Record(1);
        counter.Record(3); // 2 missing
        counter.Record(3 + DeviceIngestCounter.Window + 10);
        counter.Record(2); // far below the window now

        var s = counter.Snapshot();
        Assert.Equal(1, s.Duplicated);
        Assert.Equal(0, s.OutOfOrder);
    }

    [Fact]
    public void Messages_without_a_sequence_only_count_as_ingested()
    {
        var counter = new DeviceIngestCounter("d");
        counter.Record();
        counter.Record(0);
        var s = counter.Snapshot();
        Assert.Equal((2, 0, 0, 0), (s.Ingested, s.Lost, s.Duplicated, s.OutOfOrder));
    }
}
