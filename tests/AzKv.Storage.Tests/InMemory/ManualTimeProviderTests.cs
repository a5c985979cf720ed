using AzKv.Testing;

namespace AzKv.Storage.Tests.InMemory;

public sealed class ManualTimeProviderTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void GetUtcNow_WhenNew_IsDefaultStartTime()
    {
        var clock = new ManualTimeProvider();

        Assert.Equal(Start, clock.GetUtcNow());
        Assert.Equal(Start, ManualTimeProvider.DefaultStartTime);
        Assert.Equal(0, clock.GetTimestamp());
        Assert.Equal(TimeSpan.TicksPerSecond, clock.TimestampFrequency);
        Assert.Equal(TimeZoneInfo.Utc, clock.LocalTimeZone);
    }

    [Fact]
    public void Constructor_WithOffsetStartTime_StoresItAsUtc()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.FromHours(2)));

        Assert.Equal(new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero), clock.GetUtcNow());
        Assert.Equal(TimeSpan.Zero, clock.GetUtcNow().Offset);
    }

    [Fact]
    public void Advance_WhenCalled_MovesWallClockAndTimestampTogether()
    {
        var clock = new ManualTimeProvider();
        var before = clock.GetTimestamp();

        clock.Advance(TimeSpan.FromSeconds(90));

        Assert.Equal(Start.AddSeconds(90), clock.GetUtcNow());
        Assert.Equal(TimeSpan.FromSeconds(90), clock.GetElapsedTime(before));
        Assert.Equal(TimeSpan.FromSeconds(90).Ticks, clock.GetTimestamp() - before);
    }

    [Fact]
    public void Advance_WhenNegative_ThrowsAndLeavesClock()
    {
        var clock = new ManualTimeProvider();

        Assert.Throws<ArgumentOutOfRangeException>(() => clock.Advance(TimeSpan.FromTicks(-1)));

        Assert.Equal(Start, clock.GetUtcNow());
    }

    [Fact]
    public void SetUtcNow_WhenMovedBack_ChangesWallClockOnlyAndFiresNothing()
    {
        var clock = new ManualTimeProvider();
        var fired = 0;
        using var timer = clock.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        clock.Advance(TimeSpan.FromMilliseconds(500));

        clock.SetUtcNow(Start.AddHours(-1));
        clock.SetUtcNow(Start.AddHours(5));

        Assert.Equal(Start.AddHours(5), clock.GetUtcNow());
        Assert.Equal(TimeSpan.FromMilliseconds(500).Ticks, clock.GetTimestamp());
        Assert.Equal(0, fired);
        clock.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(1, fired);
        Assert.Equal(Start.AddHours(5).AddMilliseconds(500), clock.GetUtcNow());
    }

    [Fact]
    public void CreateTimer_WhenDueTimeReached_FiresOnceOnAdvancingThreadAtDueTime()
    {
        var clock = new ManualTimeProvider();
        var firedAt = new List<DateTimeOffset>();
        int? firedOnThread = null;
        using var timer = clock.CreateTimer(
            state =>
            {
                Assert.Equal("state", state);
                firedAt.Add(clock.GetUtcNow());
                firedOnThread = Environment.CurrentManagedThreadId;
            },
            "state",
            TimeSpan.FromSeconds(10),
            Timeout.InfiniteTimeSpan);

        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Empty(firedAt);

        clock.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal([Start.AddSeconds(10)], firedAt);
        Assert.Equal(Environment.CurrentManagedThreadId, firedOnThread);
        Assert.Equal(Start.AddSeconds(39), clock.GetUtcNow());
        Assert.Equal(0, clock.ActiveTimerCount);
    }

    [Fact]
    public void CreateTimer_WithPeriod_FiresOncePerPeriodAtEachDueTime()
    {
        var clock = new ManualTimeProvider();
        var firedAt = new List<TimeSpan>();
        using var timer = clock.CreateTimer(_ => firedAt.Add(clock.GetUtcNow() - Start), null, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));

        clock.Advance(TimeSpan.FromSeconds(36));

        Assert.Equal([TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(35)], firedAt);
        Assert.Equal(1, clock.ActiveTimerCount);
    }

    [Fact]
    public void Advance_WhenSeveralTimersDue_FiresThemInDueOrderThenCreationOrder()
    {
        var clock = new ManualTimeProvider();
        var order = new List<string>();
        using var late = clock.CreateTimer(_ => order.Add("late"), null, TimeSpan.FromSeconds(3), Timeout.InfiniteTimeSpan);
        using var tieFirst = clock.CreateTimer(_ => order.Add("tie1"), null, TimeSpan.FromSeconds(2), Timeout.InfiniteTimeSpan);
        using var tieSecond = clock.CreateTimer(_ => order.Add("tie2"), null, TimeSpan.FromSeconds(2), Timeout.InfiniteTimeSpan);
        using var early = clock.CreateTimer(_ => order.Add("early"), null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);

        clock.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(["early", "tie1", "tie2", "late"], order);
    }

    [Fact]
    public void CreateTimer_WithZeroDueTime_FiresOnNextAdvanceNotBefore()
    {
        var clock = new ManualTimeProvider();
        var fired = 0;

        using var timer = clock.CreateTimer(_ => fired++, null, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        Assert.Equal(0, fired);

        clock.Advance(TimeSpan.Zero);

        Assert.Equal(1, fired);
    }

    [Fact]
    public void CreateTimer_WithInfiniteDueTime_NeverFires()
    {
        var clock = new ManualTimeProvider();
        var fired = 0;
        using var timer = clock.CreateTimer(_ => fired++, null, Timeout.InfiniteTimeSpan, TimeSpan.FromSeconds(1));

        clock.Advance(TimeSpan.FromDays(1));

        Assert.Equal(0, fired);
        Assert.Equal(0, clock.ActiveTimerCount);
    }

    [Fact]
    public void CreateTimer_WithHugeDueTimeAfterClockMoved_DoesNotOverflowAndFire()
    {
        var clock = new ManualTimeProvider();
        clock.Advance(TimeSpan.FromDays(1));
        var fired = 0;
        using var timer = clock.CreateTimer(_ => fired++, null, TimeSpan.MaxValue, Timeout.InfiniteTimeSpan);

        clock.Advance(TimeSpan.FromDays(365));

        Assert.Equal(0, fired);
        Assert.Equal(1, clock.ActiveTimerCount);
    }

    [Fact]
    public void CreateTimer_WithNegativeDueTime_Throws()
    {
        var clock = new ManualTimeProvider();

        Assert.Throws<ArgumentOutOfRangeException>(() =>
            clock.CreateTimer(_ => { }, null, TimeSpan.FromSeconds(-2), Timeout.InfiniteTimeSpan));
    }

    [Fact]
    public void Change_WhenRescheduled_FiresAtNewDueTimeRelativeToNow()
    {
        var clock = new ManualTimeProvider();
        var firedAt = new List<DateTimeOffset>();
        using var timer = clock.CreateTimer(_ => firedAt.Add(clock.GetUtcNow()), null, TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);
        clock.Advance(TimeSpan.FromSeconds(4));

        Assert.True(timer.Change(TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan));
        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Empty(firedAt);
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal([Start.AddSeconds(14)], firedAt);
    }

    [Fact]
    public void Change_WithInfiniteDueTime_StopsTimer()
    {
        var clock = new ManualTimeProvider();
        var fired = 0;
        using var timer = clock.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

        Assert.True(timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan));
        clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(0, fired);
    }

    [Fact]
    public void Dispose_WhenScheduled_TimerNeverFiresAndChangeReturnsFalse()
    {
        var clock = new ManualTimeProvider();
        var fired = 0;
        var timer = clock.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

        timer.Dispose();
        clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(0, fired);
        Assert.Equal(0, clock.ActiveTimerCount);
        Assert.False(timer.Change(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan));
    }

    [Fact]
    public void Dispose_FromInsideItsOwnPeriodicCallback_StopsFurtherTicks()
    {
        var clock = new ManualTimeProvider();
        var fired = 0;
        ITimer? timer = null;
        timer = clock.CreateTimer(
            _ =>
            {
                fired++;
                timer!.Dispose();
            },
            null,
            TimeSpan.FromSeconds(1),
            TimeSpan.FromSeconds(1));

        clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(1, fired);
    }

    [Fact]
    public void Advance_WhenCallbackSchedulesAnotherTimerWithinTheSpan_FiresItInTheSameAdvance()
    {
        // A renewal loop: each tick schedules the next one a third of a 15 s lease later.
        var clock = new ManualTimeProvider();
        var ticks = new List<DateTimeOffset>();
        void Schedule() => clock.CreateTimer(
            _ =>
            {
                ticks.Add(clock.GetUtcNow());
                Schedule();
            },
            null,
            TimeSpan.FromSeconds(5),
            Timeout.InfiniteTimeSpan);
        Schedule();

        clock.Advance(TimeSpan.FromSeconds(16));

        Assert.Equal([Start.AddSeconds(5), Start.AddSeconds(10), Start.AddSeconds(15)], ticks);
        Assert.Equal(Start.AddSeconds(16), clock.GetUtcNow());
    }

    [Fact]
    public async Task TaskDelay_WithManualClock_CompletesOnlyAfterAdvance()
    {
        var clock = new ManualTimeProvider();

        var delay = Task.Delay(TimeSpan.FromSeconds(30), clock);
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.False(delay.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));

        await delay.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(delay.IsCompletedSuccessfully);
    }

    [Fact]
    public void CancellationTokenSource_WithManualClock_CancelsWhenClockPassesDelay()
    {
        var clock = new ManualTimeProvider();
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(15), clock);

        clock.Advance(TimeSpan.FromSeconds(14));
        Assert.False(cancellation.IsCancellationRequested);
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.True(cancellation.IsCancellationRequested);
    }

    [Fact]
    public async Task PeriodicTimer_WithManualClock_TicksOncePerAdvancedPeriod()
    {
        var clock = new ManualTimeProvider();
        using var heartbeat = new PeriodicTimer(TimeSpan.FromSeconds(5), clock);

        var tick = heartbeat.WaitForNextTickAsync().AsTask();
        clock.Advance(TimeSpan.FromSeconds(4));
        Assert.False(tick.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.True(await tick.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(Start.AddSeconds(5), clock.GetUtcNow());
    }

    [Fact]
    public void Advance_FromManyThreadsAtOnce_AddsUpEveryStepAndFiresEachTickOnce()
    {
        var clock = new ManualTimeProvider();
        var fired = 0;
        using var timer = clock.CreateTimer(_ => Interlocked.Increment(ref fired), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ => clock.Advance(TimeSpan.FromSeconds(1)));

        Assert.Equal(Start.AddSeconds(400), clock.GetUtcNow());
        Assert.Equal(TimeSpan.FromSeconds(400).Ticks, clock.GetTimestamp());
        Assert.Equal(400, fired);
    }
}
