using System.Collections.Concurrent;

namespace AzKv.Server.Security;

/// <summary>
/// One token bucket per principal on a <see cref="TimeProvider"/> (System.Threading.RateLimiting's buckets refill on
/// a system-clock timer and take no TimeProvider). A bucket holds at most <c>burst</c> tokens and gains
/// <c>rate</c> per second, computed lazily from the clock's timestamp at each request: no timer, no background work.
/// Each bucket has its own lock, so principals never wait for each other.
/// </summary>
internal sealed class PrincipalRateLimiter
{
    /// <summary>Buckets kept before idle (full) ones are swept.</summary>
    private const int SweepAbove = 10_000;

    private readonly TimeProvider _time;
    private readonly double _rate;
    private readonly double _burst;
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private long _lastSweep;

    public PrincipalRateLimiter(TimeProvider time, int requestsPerSecond, int burst)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(requestsPerSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        _time = time;
        _rate = requestsPerSecond;
        _burst = burst;
    }

    /// <summary>Takes one token from <paramref name="principal"/>'s bucket; false with the time until one is available.</summary>
    public bool TryAcquire(string principal, out TimeSpan retryAfter)
    {
        var now = _time.GetTimestamp();
        var bucket = _buckets.GetOrAdd(principal, static (_, state) => new Bucket(state.Burst, state.Now), (Burst: _burst, Now: now));
        bool acquired;
        lock (bucket)
        {
            bucket.Refill(now, _rate, _burst, _time.TimestampFrequency);
            acquired = bucket.Tokens >= 1;
            if (acquired)
            {
                bucket.Tokens -= 1;
            }

            retryAfter = acquired ? TimeSpan.Zero : TimeSpan.FromSeconds((1 - bucket.Tokens) / _rate);
        }

        if (_buckets.Count > SweepAbove)
        {
            Sweep(now);
        }

        return acquired;
    }

    /// <summary>Drops buckets idle long enough to be full again (they would be recreated full), at most once a second.</summary>
    private void Sweep(long now)
    {
        var last = Interlocked.Read(ref _lastSweep);
        if (now - last < _time.TimestampFrequency || Interlocked.CompareExchange(ref _lastSweep, now, last) != last)
        {
            return;
        }

        var idle = (long)(_burst / _rate * _time.TimestampFrequency);
        foreach (var (principal, bucket) in _buckets)
        {
            if (now - Volatile.Read(ref bucket.Last) >= idle)
            {
                _buckets.TryRemove(new KeyValuePair<string, Bucket>(principal, bucket));
            }
        }
    }

    private sealed class Bucket(double tokens, long last)
    {
        public double Tokens = tokens;
        public long Last = last;

        public void Refill(long now, double rate, double burst, long frequency)
        {
            if (now > Last)
            {
                Tokens = Math.Min(burst, Tokens + ((now - Last) * rate / frequency));
                Volatile.Write(ref Last, now);
            }
        }
    }
}
