namespace AzKv.Partitions;

/// <summary>One committed change, as watchers see it.</summary>
/// <param name="Lsn">The record's LSN in its partition.</param>
/// <param name="Key">The key.</param>
/// <param name="Deleted">True for a delete.</param>
/// <param name="ETag">The key's ETag after the change.</param>
/// <param name="ContentType">The content type (puts only).</param>
/// <param name="Size">The value's size in bytes (puts only).</param>
public readonly record struct Change(long Lsn, string Key, bool Deleted, string ETag, string? ContentType, int Size);

/// <summary>
/// The recent committed changes of one partition, for watchers: a bounded ring, appended by the
/// partition's writer in LSN order, read by any number of watchers. It belongs to the node's
/// partition slot, not to one owner, so it survives re-opens within the process; a new owner
/// seeds it with the records it replayed during recovery.
/// </summary>
public sealed class ChangeFeed
{
    private readonly object _gate = new();
    private readonly Change[] _ring;
    private long _firstLsn = 1; // LSN of the oldest retained change (or the next one, when empty)
    private long _lastLsn;      // LSN of the newest change known
    private int _count;
    private int _head;          // index of the oldest retained change
    private TaskCompletionSource _advanced = NewSignal();

    /// <summary>Creates a feed retaining up to <paramref name="capacity"/> changes.</summary>
    public ChangeFeed(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new Change[capacity];
    }

    /// <summary>LSN of the newest change (0 before any).</summary>
    public long LastLsn
    {
        get
        {
            lock (_gate)
            {
                return _lastLsn;
            }
        }
    }

    /// <summary>
    /// Adds committed changes (in LSN order). Changes at or below <see cref="LastLsn"/> are ignored,
    /// so seeding after a re-open is idempotent. A gap (a change whose predecessors this feed never
    /// saw) restarts the retained window at it.
    /// </summary>
    public void Append(IReadOnlyList<Change> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        TaskCompletionSource? toSignal = null;
        lock (_gate)
        {
            foreach (var change in changes)
            {
                if (change.Lsn <= _lastLsn)
                {
                    continue;
                }

                if (change.Lsn != _lastLsn + 1)
                {
                    _count = 0;
                    _head = 0;
                    _firstLsn = change.Lsn;
                }

                if (_count == _ring.Length)
                {
                    _head = (_head + 1) % _ring.Length;
                    _count--;
                    _firstLsn++;
                }

                _ring[(_head + _count) % _ring.Length] = change;
                _count++;
                _lastLsn = change.Lsn;
                toSignal = _advanced;
            }

            if (toSignal is not null)
            {
                _advanced = NewSignal();
            }
        }

        toSignal?.TrySetResult();
    }

    /// <summary>
    /// Moves the feed to <paramref name="lsn"/> without changes (a new owner whose recovered state
    /// starts there). Watchers with older cursors then get "expired".
    /// </summary>
    public void ResetTo(long lsn)
    {
        lock (_gate)
        {
            if (lsn <= _lastLsn)
            {
                return;
            }

            _count = 0;
            _head = 0;
            _firstLsn = lsn + 1;
            _lastLsn = lsn;
        }
    }

    /// <summary>
    /// Copies changes after <paramref name="afterLsn"/> whose key starts with <paramref name="prefix"/>
    /// into <paramref name="output"/> (at most <paramref name="max"/>). Returns false when changes after
    /// <paramref name="afterLsn"/> are no longer retained (the cursor expired). <paramref name="nextLsn"/>
    /// is the LSN to continue after: the last change scanned (matching or not).
    /// </summary>
    public bool TryRead(long afterLsn, string prefix, int max, List<Change> output, out long nextLsn)
    {
        ArgumentNullException.ThrowIfNull(output);
        lock (_gate)
        {
            nextLsn = Math.Max(afterLsn, 0);
            if (afterLsn >= _lastLsn)
            {
                nextLsn = afterLsn;
                return true;
            }

            if (afterLsn < _firstLsn - 1)
            {
                return false;
            }

            var skip = (int)(afterLsn - (_firstLsn - 1));
            for (var i = skip; i < _count; i++)
            {
                var change = _ring[(_head + i) % _ring.Length];
                if (change.Key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    if (output.Count >= max)
                    {
                        return true;
                    }

                    output.Add(change);
                }

                nextLsn = change.Lsn;
            }

            return true;
        }
    }

    /// <summary>Completes when a change after <paramref name="afterLsn"/> exists.</summary>
    public Task WaitAfterAsync(long afterLsn, CancellationToken cancellationToken)
    {
        Task signal;
        lock (_gate)
        {
            if (_lastLsn > afterLsn)
            {
                return Task.CompletedTask;
            }

            signal = _advanced.Task;
        }

        return signal.WaitAsync(cancellationToken);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
