using AzKv.Storage;

namespace AzKv.Testing;

/// <summary>
/// Faults an <see cref="InMemoryBlobStore"/> injects into its own requests: added latency, transient
/// failures before a request happens, lost responses after it happened, and a callback for faults at
/// an exact step. Deterministic: nothing here is random.
/// </summary>
/// <remarks>
/// <para>For each request the store asks, in this order:</para>
/// <list type="number">
/// <item>Latency: the delays of every matching <see cref="AddLatency"/> rule are added up and awaited
/// before the request reaches the store (on the store's clock unless the rule says real time).</item>
/// <item><see cref="Callback"/>, when set, decides first. If it returns a failure or a lost response, that
/// is what happens and no counted rule is used up; if it throws, the exception reaches the caller as is
/// (a way to simulate a crash at that step).</item>
/// <item>Otherwise the first matching counted rule (<see cref="FailNext"/>, <see cref="LoseNextResponses"/>,
/// in the order they were added) that has requests left uses one up.</item>
/// </list>
/// <para>
/// A rule matches when its operation is the request's and, if it has a blob-name prefix, the request's
/// blob name (the list prefix for <see cref="BlobOperation.List"/>) starts with it (ordinal). A rule with a
/// prefix never matches <see cref="BlobOperation.CreateContainer"/>. All members are thread-safe.
/// </para>
/// <para>For random faults, use <see cref="Callback"/> with a <see cref="Random"/> seeded by the test.</para>
/// </remarks>
public sealed class BlobFaults
{
    private readonly Lock _lock = new();
    private readonly List<LatencyRule> _latencies = [];
    private readonly List<CountedRule> _counted = [];
    private readonly Dictionary<(BlobOperation Operation, string? BlobName), int> _calls = [];
    private Func<BlobFaultContext, BlobFaultAction>? _callback;

    /// <summary>
    /// Decides the fault for each request before the counted rules do (see the class remarks).
    /// Return <see cref="BlobFaultAction.None"/> to leave the request to the other rules.
    /// </summary>
    public Func<BlobFaultContext, BlobFaultAction>? Callback
    {
        get
        {
            lock (_lock)
            {
                return _callback;
            }
        }

        set
        {
            lock (_lock)
            {
                _callback = value;
            }
        }
    }

    /// <summary>
    /// Delays every matching request by <paramref name="delay"/> before it reaches the store.
    /// With <paramref name="realTime"/> false (the default) the delay is awaited on the store's
    /// <see cref="TimeProvider"/>: on a <see cref="ManualTimeProvider"/> the request completes only
    /// once the test advances the clock past it. With true it is a real <c>Task.Delay</c>.
    /// </summary>
    public void AddLatency(BlobOperation operation, TimeSpan delay, string? blobNamePrefix = null, bool realTime = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        lock (_lock)
        {
            _latencies.Add(new LatencyRule(operation, blobNamePrefix, delay, realTime));
        }
    }

    /// <summary>
    /// Fails the next <paramref name="count"/> matching requests before they happen, with
    /// <paramref name="failure"/> (default <see cref="BlobFaultAction.ServerBusy"/>; see also
    /// <see cref="BlobFaultAction.InternalError"/> and <see cref="BlobFaultAction.LoseRequest"/>).
    /// </summary>
    public void FailNext(BlobOperation operation, int count, string? blobNamePrefix = null, BlobFaultAction? failure = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        failure ??= BlobFaultAction.ServerBusy;
        if (failure.Kind != BlobFaultKind.Fail)
        {
            throw new ArgumentException("Must be a failure (BlobFaultAction.Fail and friends).", nameof(failure));
        }

        lock (_lock)
        {
            _counted.Add(new CountedRule(operation, blobNamePrefix, failure, count));
        }
    }

    /// <summary>
    /// Lets the next <paramref name="count"/> matching requests happen, then loses their responses: the
    /// caller gets status 0 / <see cref="BlobErrorCodes.NoResponse"/> and cannot know the outcome.
    /// </summary>
    public void LoseNextResponses(BlobOperation operation, int count, string? blobNamePrefix = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        lock (_lock)
        {
            _counted.Add(new CountedRule(operation, blobNamePrefix, BlobFaultAction.LoseResponse, count));
        }
    }

    /// <summary>Requests of <paramref name="operation"/> on <paramref name="blobName"/> the store has received so far.</summary>
    public int GetCallCount(BlobOperation operation, string? blobName)
    {
        lock (_lock)
        {
            return _calls.GetValueOrDefault((operation, blobName));
        }
    }

    /// <summary>Requests of <paramref name="operation"/> on any blob the store has received so far.</summary>
    public int GetCallCount(BlobOperation operation)
    {
        lock (_lock)
        {
            return _calls.Where(pair => pair.Key.Operation == operation).Sum(pair => pair.Value);
        }
    }

    /// <summary>Removes every rule and the callback. Call counts are kept.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _latencies.Clear();
            _counted.Clear();
            _callback = null;
        }
    }

    /// <summary>Counts the request and decides what happens to it.</summary>
    internal BlobFaultPlan Decide(BlobOperation operation, string? blobName)
    {
        Func<BlobFaultContext, BlobFaultAction>? callback;
        int callNumber;
        var storeDelay = TimeSpan.Zero;
        var realDelay = TimeSpan.Zero;
        lock (_lock)
        {
            callNumber = _calls.GetValueOrDefault((operation, blobName)) + 1;
            _calls[(operation, blobName)] = callNumber;
            foreach (var rule in _latencies)
            {
                if (Matches(rule.Operation, rule.Prefix, operation, blobName))
                {
                    if (rule.RealTime)
                    {
                        realDelay += rule.Delay;
                    }
                    else
                    {
                        storeDelay += rule.Delay;
                    }
                }
            }

            callback = _callback;
        }

        var action = callback?.Invoke(new BlobFaultContext(operation, blobName, callNumber)) ?? BlobFaultAction.None;
        if (action.RealTimeDelay)
        {
            realDelay += action.Delay;
        }
        else
        {
            storeDelay += action.Delay;
        }

        if (action.Kind == BlobFaultKind.None)
        {
            lock (_lock)
            {
                foreach (var rule in _counted)
                {
                    if (rule.Remaining > 0 && Matches(rule.Operation, rule.Prefix, operation, blobName))
                    {
                        rule.Remaining--;
                        action = rule.Action;
                        break;
                    }
                }
            }
        }

        return new BlobFaultPlan(storeDelay, realDelay, action);
    }

    private static bool Matches(BlobOperation ruleOperation, string? rulePrefix, BlobOperation operation, string? blobName) =>
        ruleOperation == operation
        && (rulePrefix is null || (blobName is not null && blobName.StartsWith(rulePrefix, StringComparison.Ordinal)));

    private sealed record LatencyRule(BlobOperation Operation, string? Prefix, TimeSpan Delay, bool RealTime);

    private sealed class CountedRule(BlobOperation operation, string? prefix, BlobFaultAction action, int remaining)
    {
        public BlobOperation Operation { get; } = operation;

        public string? Prefix { get; } = prefix;

        public BlobFaultAction Action { get; } = action;

        public int Remaining { get; set; } = remaining;
    }
}

/// <summary>What the store does with one request: wait, then perform it or fail it, then maybe lose the response.</summary>
/// <param name="StoreClockDelay">Latency awaited on the store's clock.</param>
/// <param name="RealDelay">Latency awaited in real time.</param>
/// <param name="Action">The failure or lost response, or <see cref="BlobFaultAction.None"/>.</param>
internal readonly record struct BlobFaultPlan(TimeSpan StoreClockDelay, TimeSpan RealDelay, BlobFaultAction Action);
