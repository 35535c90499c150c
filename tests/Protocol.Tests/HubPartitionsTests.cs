namespace FleetSim.Protocol.Tests;

public sealed class HubPartitionsTests
{
    [Fact]
    public void Placement_is_the_published_FNV_1a_value_so_every_process_agrees()
    {
        // FNV-1a 32 of "a" is 0xE40C292C; of "device-0001" computed independently.
        Assert.Equal((int)(0xE40C292Cu % 7u), HubPartitions.PartitionOf("a", 7));
        Assert.Equal(0, HubPartitions.PartitionOf("anything", 1));
    }

    [Fact]
    public void Devices_spread_evenly_over_partitions()
    {
        var counts = new int[4];
        for (var i = 0; i < 10_000; i++)
            counts[HubPartitions.PartitionOf($"dev-{i:D5}", 4)]++;
        Assert.All(counts, c => Assert.InRange(c, 2_300, 2_700));
    }

    [Fact]
    public void Long_ids_are_placed_like_short_ones()
    {
        var id = new string('x', 300);
        Assert.InRange(HubPartitions.PartitionOf(id, 5), 0, 4);
        Assert.Equal(HubPartitions.PartitionOf(id, 5), HubPartitions.PartitionOf(new string('x', 300), 5));
    }

    [Fact]
    public void Zero_partitions_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => HubPartitions.PartitionOf("a", 0));
    }
}
