using System.Collections.Concurrent;
using AzKv.Testing;
using AzKv.Versioning;

namespace AzKv.Core.Tests.Versioning;

public sealed class HybridLogicalClockTests
{
    private static readonly long StartMs = ManualTimeProvider.DefaultStartTime.ToUnixTimeMilliseconds();

    [Fact]
    public void Now_WhenWallClockAdvances_UsesWallClockWithLogicalZero()
    {
        var time = new ManualTimeProvider();
        var clock = new HybridLogicalClock(time);

        var first = clock.Now();
        time.Advance(TimeSpan.FromMilliseconds(5));
        var second = clock.Now();

        Assert.Equal(HybridLogicalClock.Pack(StartMs, 0), first);
        Assert.Equal(HybridLogicalClock.Pack(StartMs + 5, 0), second);
    }

    [Fact]
    public void Now_WhenWallClockStandsStill_IncrementsLogical()
    {
        var clock = new HybridLogicalClock(new ManualTimeProvider());

        var stamps = Enumerable.Range(0, 3).Select(_ => clock.Now()).ToArray();

        Assert.Equal([0, 1, 2], stamps.Select(HybridLogicalClock.GetLogical));
        Assert.All(stamps, s => Assert.Equal(StartMs, HybridLogicalClock.GetPhysicalMilliseconds(s)));
    }

    [Fact]
    public void Now_WhenWallClockStepsBack_StaysMonotonic()
    {
        var time = new ManualTimeProvider();
        var clock = new HybridLogicalClock(time);
        var before = clock.Now();

        time.SetUtcNow(ManualTimeProvider.DefaultStartTime.AddMinutes(-10));
        var after = clock.Now();

        Assert.True(after > before);
        Assert.Equal(HybridLogicalClock.Pack(StartMs, 1), after);
    }

    [Fact]
    public void Now_WhenLogicalCounterOverflows_CarriesIntoPhysicalAndStaysMonotonic()
    {
        var clock = new HybridLogicalClock(new ManualTimeProvider());
        long previous = -1;
        for (var i = 0; i < 70_000; i++)
        {
            var next = clock.Now();
            Assert.True(next > previous);
            previous = next;
        }

        Assert.Equal(StartMs + 1, HybridLogicalClock.GetPhysicalMilliseconds(previous));
        Assert.Equal(70_000 - 65_536 - 1, HybridLogicalClock.GetLogical(previous));
    }

    [Fact]
    public void Observe_WhenRemoteIsAhead_MovesPastRemote()
    {
        var time = new ManualTimeProvider();
        var clock = new HybridLogicalClock(time);
        var remote = HybridLogicalClock.Pack(StartMs + 1_000, 7);

        var observed = clock.Observe(remote);
        var next = clock.Now();

        Assert.Equal(HybridLogicalClock.Pack(StartMs + 1_000, 8), observed);
        Assert.Equal(HybridLogicalClock.Pack(StartMs + 1_000, 9), next);
    }

    [Fact]
    public void Observe_WhenRemoteIsBehind_UsesWallClock()
    {
        var time = new ManualTimeProvider();
        var clock = new HybridLogicalClock(time);

        var observed = clock.Observe(HybridLogicalClock.Pack(StartMs - 5_000, 3));

        Assert.Equal(HybridLogicalClock.Pack(StartMs, 0), observed);
    }

    [Fact]
    public void Observe_WhenRemoteHasSamePhysicalTime_TakesMaxLogicalPlusOne()
    {
        var clock = new HybridLogicalClock(new ManualTimeProvider());
        clock.Now();
        clock.Now();

        var observed = clock.Observe(HybridLogicalClock.Pack(StartMs, 10));

        Assert.Equal(HybridLogicalClock.Pack(StartMs, 11), observed);
    }

    [Fact]
    public void Observe_WhenRemoteNegative_Throws()
    {
        var clock = new HybridLogicalClock(new ManualTimeProvider());

        Assert.Throws<ArgumentOutOfRangeException>(() => clock.Observe(-1));
    }

    [Fact]
    public void Now_WhenManyThreadsCall_IssuesDistinctIncreasingTimestamps()
    {
        var clock = new HybridLogicalClock(new ManualTimeProvider());
        var all = new ConcurrentBag<long>();
        const int perThread = 20_000;

        Parallel.For(0, 4, _ =>
        {
            long previous = -1;
            for (var i = 0; i < perThread; i++)
            {
                var next = clock.Now();
                Assert.True(next > previous);
                previous = next;
                all.Add(next);
            }
        });

        Assert.Equal(4 * perThread, all.Distinct().Count());
        Assert.Equal(all.Max(), clock.Current);
    }

    [Fact]
    public void Now_WhenRandomWallClockStepsAndObservations_IsStrictlyIncreasing()
    {
        Property.ForAll(random =>
        {
            var time = new ManualTimeProvider();
            var clock = new HybridLogicalClock(time);
            long previous = -1;
            for (var i = 0; i < 50; i++)
            {
                switch (random.Next(4))
                {
                    case 0:
                        time.SetUtcNow(time.GetUtcNow().AddMilliseconds(random.Next(-50, 50)));
                        break;
                    case 1:
                        var remote = HybridLogicalClock.Pack(StartMs + random.Next(-100, 100), random.Next(0, 100));
                        var observed = clock.Observe(remote);
                        Assert.True(observed > remote);
                        Assert.True(observed > previous);
                        previous = observed;
                        break;
                    default:
                        var next = clock.Now();
                        Assert.True(next > previous);
                        Assert.True(HybridLogicalClock.GetPhysicalMilliseconds(next) >= time.GetUtcNow().ToUnixTimeMilliseconds());
                        previous = next;
                        break;
                }
            }
        });
    }

    [Fact]
    public void Pack_WhenSplit_ReturnsParts()
    {
        var stamp = HybridLogicalClock.Pack(1_700_000_000_123, 42);

        Assert.Equal((1_700_000_000_123L << 16) | 42, stamp);
        Assert.Equal(1_700_000_000_123, HybridLogicalClock.GetPhysicalMilliseconds(stamp));
        Assert.Equal(42, HybridLogicalClock.GetLogical(stamp));
    }

    [Theory]
    [InlineData(-1L, 0)]
    [InlineData(0L, -1)]
    [InlineData(0L, 65_536)]
    [InlineData(HybridLogicalClock.MaxPhysicalMilliseconds + 1, 0)]
    public void Pack_WhenPartOutOfRange_Throws(long physical, int logical)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => HybridLogicalClock.Pack(physical, logical));
    }

    [Fact]
    public void Format_WhenGivenTimestamp_PrintsUtcTimeAndLogical()
    {
        var stamp = HybridLogicalClock.Pack(StartMs + 1_234, 3);

        Assert.Equal("2026-01-01T00:00:01.234Z+3", HybridLogicalClock.Format(stamp));
        Assert.Equal(ManualTimeProvider.DefaultStartTime.AddMilliseconds(1_234), HybridLogicalClock.ToDateTimeOffset(stamp));
    }
}
