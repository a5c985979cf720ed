using System.Globalization;

namespace AzKv.Versioning;

/// <summary>
/// A hybrid logical clock (Kulkarni et al., "Logical Physical Clocks"): timestamps that follow the wall clock in
/// milliseconds but never go back and order causally related events, packed in 64 bits as
/// <c>unixMilliseconds &lt;&lt; 16 | logical</c> (48 + 16 bits). Lock-free and thread-safe.
/// </summary>
/// <remarks>
/// <para>Issued timestamps are strictly increasing per clock instance, even when the wall clock steps back (the clock
/// then keeps counting from the last timestamp). More than 65,536 timestamps in one millisecond carry into the
/// millisecond field: the clock runs at most that far ahead of the wall clock, and stays monotonic.</para>
/// <para>The packed value compares like the (physical, logical) pair, so plain <c>long</c> comparison is HLC order.</para>
/// </remarks>
public sealed class HybridLogicalClock
{
    /// <summary>Number of low bits holding the logical counter.</summary>
    public const int LogicalBits = 16;

    /// <summary>Mask of the logical counter.</summary>
    public const long LogicalMask = (1L << LogicalBits) - 1;

    /// <summary>Largest physical time the format holds (Unix milliseconds, 47 bits: about year 6429).</summary>
    public const long MaxPhysicalMilliseconds = long.MaxValue >> LogicalBits;

    private readonly TimeProvider _timeProvider;
    private long _last;

    /// <summary>Creates a clock reading the wall clock from <paramref name="timeProvider"/>.</summary>
    public HybridLogicalClock(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
    }

    /// <summary>The last timestamp issued or observed (0 before the first).</summary>
    public long Current => Volatile.Read(ref _last);

    /// <summary>
    /// A new timestamp for a local event (a write): <c>max(wall, last + 1)</c>, strictly greater than every timestamp
    /// this clock issued or observed before.
    /// </summary>
    public long Now()
    {
        while (true)
        {
            var last = Volatile.Read(ref _last);
            var next = Math.Max(WallTimestamp(), Increment(last));
            if (Interlocked.CompareExchange(ref _last, next, last) == last)
            {
                return next;
            }
        }
    }

    /// <summary>
    /// The HLC receive rule for a timestamp from another node or region: the clock moves to
    /// <c>max(wall, last + 1, remote + 1)</c>, which is returned (a timestamp for the receive event). Afterwards every
    /// timestamp this clock issues is greater than <paramref name="remote"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="remote"/> is negative.</exception>
    public long Observe(long remote)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(remote);
        while (true)
        {
            var last = Volatile.Read(ref _last);
            var next = Math.Max(WallTimestamp(), Math.Max(Increment(last), Increment(remote)));
            if (Interlocked.CompareExchange(ref _last, next, last) == last)
            {
                return next;
            }
        }
    }

    /// <summary>Packs a physical time (Unix milliseconds) and a logical counter.</summary>
    public static long Pack(long unixMilliseconds, int logical)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(unixMilliseconds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(unixMilliseconds, MaxPhysicalMilliseconds);
        ArgumentOutOfRangeException.ThrowIfNegative(logical);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(logical, (int)LogicalMask);
        return (unixMilliseconds << LogicalBits) | (long)logical;
    }

    /// <summary>The physical part of a timestamp, in Unix milliseconds.</summary>
    public static long GetPhysicalMilliseconds(long timestamp) => timestamp >>> LogicalBits;

    /// <summary>The logical counter of a timestamp.</summary>
    public static int GetLogical(long timestamp) => (int)(timestamp & LogicalMask);

    /// <summary>The physical part of a timestamp as a UTC time.</summary>
    public static DateTimeOffset ToDateTimeOffset(long timestamp) =>
        DateTimeOffset.FromUnixTimeMilliseconds(GetPhysicalMilliseconds(timestamp));

    /// <summary>Formats a timestamp as <c>2025-01-31T12:00:00.000Z+3</c> (UTC time, then the logical counter).</summary>
    public static string Format(long timestamp) => string.Create(
        CultureInfo.InvariantCulture,
        $"{ToDateTimeOffset(timestamp).UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}+{GetLogical(timestamp)}");

    private long WallTimestamp()
    {
        var milliseconds = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        return Math.Clamp(milliseconds, 0, MaxPhysicalMilliseconds) << LogicalBits;
    }

    private static long Increment(long timestamp) => timestamp == long.MaxValue ? long.MaxValue : timestamp + 1;
}
