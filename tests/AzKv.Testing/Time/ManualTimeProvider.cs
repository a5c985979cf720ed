namespace AzKv.Testing;

/// <summary>
/// A clock that only moves when a test moves it, so lease expiry, lease renewal loops,
/// heartbeats and timeouts can be tested without sleeping.
/// </summary>
/// <remarks>
/// <para>
/// Two clocks move together under <see cref="Advance"/>: the wall clock (<see cref="GetUtcNow"/>,
/// starting at <see cref="DefaultStartTime"/>) and the monotonic clock (<see cref="GetTimestamp"/>,
/// starting at 0, in <see cref="TimeSpan"/> ticks). <see cref="SetUtcNow"/> moves only the wall
/// clock, in either direction, like an NTP step: the monotonic clock and the timers ignore it.
/// </para>
/// <para>
/// Timers made by <see cref="CreateTimer"/> (and so <c>Task.Delay(delay, provider)</c>,
/// <c>new CancellationTokenSource(delay, provider)</c>, <c>PeriodicTimer</c>) are driven by the
/// monotonic clock. <see cref="Advance"/> fires every timer whose due time it reaches, one at a
/// time in due order (ties in scheduling order), synchronously on the calling thread, with the
/// clock set to that timer's due time while its callback runs. A timer due now (due time zero)
/// fires on the next <see cref="Advance"/>, even <c>Advance(TimeSpan.Zero)</c>, never inside
/// <see cref="CreateTimer"/>. Code awaiting such a timer may continue on the advancing thread or
/// on the thread pool: assert on the condition you expect, with a deadline, not on timing.
/// </para>
/// <para>All members are thread-safe; concurrent <see cref="Advance"/> calls are serialized.</para>
/// </remarks>
public sealed class ManualTimeProvider : TimeProvider
{
    /// <summary>The wall-clock time a new instance starts at: 2026-01-01T00:00:00Z.</summary>
    public static readonly DateTimeOffset DefaultStartTime = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly Lock _lock = new();
    private readonly Lock _advanceLock = new();
    private readonly SortedSet<ManualTimer> _timers = new(ManualTimer.DueOrder);
    private DateTimeOffset _utcNow;
    private long _timestamp;
    private long _nextSequence;

    /// <summary>Creates a clock at <see cref="DefaultStartTime"/>.</summary>
    public ManualTimeProvider()
        : this(DefaultStartTime)
    {
    }

    /// <summary>Creates a clock whose wall clock starts at <paramref name="startTime"/>.</summary>
    public ManualTimeProvider(DateTimeOffset startTime)
    {
        _utcNow = startTime.ToUniversalTime();
    }

    /// <summary>One timestamp unit is one <see cref="TimeSpan"/> tick.</summary>
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>Always UTC, so nothing depends on the machine's time zone.</summary>
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>Timers scheduled to fire (not disposed, not one-shot timers that already fired).</summary>
    public int ActiveTimerCount
    {
        get
        {
            lock (_lock)
            {
                return _timers.Count;
            }
        }
    }

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return _utcNow;
        }
    }

    /// <inheritdoc />
    public override long GetTimestamp()
    {
        lock (_lock)
        {
            return _timestamp;
        }
    }

    /// <summary>
    /// Sets the wall clock, forward or back, without moving the monotonic clock or firing timers
    /// (a clock step, as NTP makes). Use <see cref="Advance"/> to let time pass.
    /// </summary>
    public void SetUtcNow(DateTimeOffset value)
    {
        lock (_lock)
        {
            _utcNow = value.ToUniversalTime();
        }
    }

    /// <summary>
    /// Lets <paramref name="delta"/> pass: moves both clocks forward and fires, in due order and on
    /// this thread, every timer that comes due on the way (periodic timers once per period).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is negative.</exception>
    public void Advance(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);

        // Re-entrant: a timer callback may itself call Advance on this thread.
        lock (_advanceLock)
        {
            long target;
            lock (_lock)
            {
                target = SaturatingAdd(_timestamp, delta.Ticks);
            }

            while (true)
            {
                ManualTimer timer;
                lock (_lock)
                {
                    if (_timers.Count == 0 || _timers.Min!.Due > target)
                    {
                        MoveClockTo(target);
                        return;
                    }

                    timer = _timers.Min;
                    _timers.Remove(timer);
                    MoveClockTo(timer.Due);
                    if (timer.Period > 0)
                    {
                        timer.Due = SaturatingAdd(timer.Due, timer.Period);
                        timer.Sequence = _nextSequence++;
                        _timers.Add(timer);
                    }
                    else
                    {
                        timer.IsScheduled = false;
                    }
                }

                timer.Fire();
            }
        }
    }

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new ManualTimer(this, callback, state);
        Change(timer, dueTime, period);
        return timer;
    }

    private void MoveClockTo(long timestamp)
    {
        if (timestamp > _timestamp)
        {
            _utcNow += TimeSpan.FromTicks(timestamp - _timestamp);
            _timestamp = timestamp;
        }
    }

    private bool Change(ManualTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        ValidateTimerSpan(dueTime, nameof(dueTime));
        ValidateTimerSpan(period, nameof(period));

        lock (_lock)
        {
            if (timer.IsDisposed)
            {
                return false;
            }

            if (timer.IsScheduled)
            {
                _timers.Remove(timer);
                timer.IsScheduled = false;
            }

            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                return true;
            }

            timer.Due = SaturatingAdd(_timestamp, dueTime.Ticks);
            timer.Period = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
            timer.Sequence = _nextSequence++;
            timer.IsScheduled = true;
            _timers.Add(timer);
            return true;
        }
    }

    private void Remove(ManualTimer timer)
    {
        lock (_lock)
        {
            if (timer.IsScheduled)
            {
                _timers.Remove(timer);
                timer.IsScheduled = false;
            }

            timer.IsDisposed = true;
        }
    }

    /// <summary>Adds two non-negative tick counts, stopping at <see cref="long.MaxValue"/> (so TimeSpan.MaxValue means "never").</summary>
    private static long SaturatingAdd(long ticks, long more) => ticks > long.MaxValue - more ? long.MaxValue : ticks + more;

    private static void ValidateTimerSpan(TimeSpan value, string name)
    {
        if (value < TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(name, value, "Must be zero or more, or Timeout.InfiniteTimeSpan.");
        }
    }

    private sealed class ManualTimer : ITimer
    {
        public static readonly IComparer<ManualTimer> DueOrder = Comparer<ManualTimer>.Create((x, y) =>
        {
            var byDue = x.Due.CompareTo(y.Due);
            return byDue != 0 ? byDue : x.Sequence.CompareTo(y.Sequence);
        });

        private readonly ManualTimeProvider _owner;
        private readonly TimerCallback _callback;
        private readonly object? _state;

        public ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state)
        {
            _owner = owner;
            _callback = callback;
            _state = state;
        }

        // The fields below are guarded by the owner's lock.
        public long Due { get; set; }

        public long Period { get; set; }

        public long Sequence { get; set; }

        public bool IsScheduled { get; set; }

        public bool IsDisposed { get; set; }

        public void Fire() => _callback(_state);

        public bool Change(TimeSpan dueTime, TimeSpan period) => _owner.Change(this, dueTime, period);

        public void Dispose() => _owner.Remove(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
