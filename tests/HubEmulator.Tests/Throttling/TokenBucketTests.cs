using FleetSim.HubEmulator.Throttling;
using Microsoft.Extensions.Time.Testing;

namespace FleetSim.HubEmulator.Tests.Throttling;

public sealed class TokenBucketTests
{
    [Fact]
    public void A_fractional_rate_allows_one_at_a_time_every_interval()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var bucket = new TokenBucket(0.5, time);

        Assert.True(bucket.TryTake());
        Assert.False(bucket.TryTake());
        time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.False(bucket.TryTake());
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(bucket.TryTake());
        Assert.False(bucket.TryTake());
    }

    [Fact]
    public void Refused_takes_spend_nothing_and_an_idle_bucket_refills_only_to_one_second()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var bucket = new TokenBucket(3, time);

        Assert.Equal(3, TakeAll(bucket));
        for (var i = 0; i < 10; i++)
        {
            Assert.False(bucket.TryTake());
        }

        time.Advance(TimeSpan.FromMilliseconds(334)); // one interval (1/3 s)
        Assert.Equal(1, TakeAll(bucket)); // the refused attempts did not push the next token back
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(3, TakeAll(bucket)); // no credit saved up beyond the burst
    }

    [Fact]
    public void Reserve_spaces_waits_at_the_rate_after_the_burst()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var bucket = new TokenBucket(4, time);

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(TimeSpan.Zero, bucket.Reserve());
        }

        Assert.Equal(TimeSpan.FromMilliseconds(250), bucket.Reserve());
        Assert.Equal(TimeSpan.FromMilliseconds(500), bucket.Reserve());
        time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(TimeSpan.FromMilliseconds(250), bucket.Reserve());
        Assert.False(bucket.TryTake()); // reservations spend the same tokens
    }

    private static int TakeAll(TokenBucket bucket)
    {
        var taken = 0;
        while (taken < 1000 && bucket.TryTake())
        {
            taken++;
        }

        return taken;
    }
}
