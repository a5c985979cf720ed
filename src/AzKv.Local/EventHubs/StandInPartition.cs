namespace AzKv.Local.EventHubs;

/// <summary>One event as the stand-in keeps it: what the producer sent, plus what the broker assigned.</summary>
/// <param name="SequenceNumber">Assigned at enqueue, from 0, +1 per event, never reused in the hub's lifetime.</param>
/// <param name="Offset">Opaque position in the partition (here the byte count before the event).</param>
/// <param name="EnqueuedTime">When the broker accepted the event.</param>
/// <param name="Event">The event's sections.</param>
internal sealed record StoredEvent(long SequenceNumber, long Offset, DateTimeOffset EnqueuedTime, EventSections Event);

/// <summary>
/// The event log of one hub partition. Thread-safe; readers wait on <see cref="WaitForChangeAsync"/>.
/// </summary>
internal sealed class StandInPartition
{
    private readonly object _gate = new();
    private readonly List<StoredEvent> _events = [];
    private readonly TimeProvider _clock;
    private readonly TimeSpan _retention;
    private TaskCompletionSource _changed = NewSignal();
    private long _nextSequenceNumber;
    private long _nextOffset;
    private StoredEvent? _last;

    public StandInPartition(string id, TimeProvider clock, TimeSpan retention)
    {
        Id = id;
        _clock = clock;
        _retention = retention;
    }

    public string Id { get; }

    /// <summary>Appends events atomically (one batch keeps its order and is contiguous).</summary>
    public void Append(IReadOnlyList<EventSections> events)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            var now = _clock.GetUtcNow();
            foreach (var e in events)
            {
                var stored = new StoredEvent(_nextSequenceNumber++, _nextOffset, now, e);
                _nextOffset += Math.Max(1, e.Body.Length);
                _events.Add(stored);
                _last = stored;
            }

            ExpireLocked();
            changed = _changed;
            _changed = NewSignal();
        }

        changed.TrySetResult();
    }

    /// <summary>Removes every event with a sequence number below <paramref name="sequenceNumber"/> (a retention hook for tests).</summary>
    public void TruncateBefore(long sequenceNumber)
    {
        lock (_gate)
        {
            _events.RemoveAll(e => e.SequenceNumber < sequenceNumber);
        }
    }

    /// <summary>Up to <paramref name="max"/> events from index-free position <paramref name="nextSequenceNumber"/> on (the first retained one when older were removed).</summary>
    public IReadOnlyList<StoredEvent> Read(long nextSequenceNumber, int max)
    {
        lock (_gate)
        {
            ExpireLocked();
            var start = _events.FindIndex(e => e.SequenceNumber >= nextSequenceNumber);
            if (start < 0 || max <= 0)
            {
                return [];
            }

            return _events.GetRange(start, Math.Min(max, _events.Count - start));
        }
    }

    /// <summary>The sequence number a receiver starting at <paramref name="filter"/> reads next.</summary>
    public long Resolve(SelectorFilter filter)
    {
        lock (_gate)
        {
            ExpireLocked();
            return filter switch
            {
                SelectorFilter.Latest => _nextSequenceNumber,
                SelectorFilter.FromSequenceNumber s => s.Inclusive ? Math.Max(0, s.Value) : Math.Max(0, s.Value + 1),
                SelectorFilter.FromOffset o when o.Value < 0 => 0,
                SelectorFilter.FromOffset o => _events.Find(e => o.Inclusive ? e.Offset >= o.Value : e.Offset > o.Value)?.SequenceNumber ?? _nextSequenceNumber,
                SelectorFilter.FromEnqueuedTime t => _events.Find(e => e.EnqueuedTime.ToUnixTimeMilliseconds() > t.UnixMilliseconds)?.SequenceNumber ?? _nextSequenceNumber,
                _ => throw new ArgumentOutOfRangeException(nameof(filter)),
            };
        }
    }

    /// <summary>Completes when an event is appended after this call.</summary>
    public Task WaitForChangeAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _changed.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>What the management node's partition READ returns.</summary>
    public (long BeginSequenceNumber, long LastSequenceNumber, long LastOffset, DateTimeOffset LastEnqueuedTime, bool IsEmpty) Describe()
    {
        lock (_gate)
        {
            ExpireLocked();
            var isEmpty = _events.Count == 0;
            return (
                isEmpty ? _nextSequenceNumber : _events[0].SequenceNumber,
                _last?.SequenceNumber ?? -1,
                _last?.Offset ?? -1,
                _last?.EnqueuedTime ?? DateTimeOffset.UnixEpoch,
                isEmpty);
        }
    }

    private void ExpireLocked()
    {
        var cutoff = _clock.GetUtcNow() - _retention;
        var expired = 0;
        while (expired < _events.Count && _events[expired].EnqueuedTime < cutoff)
        {
            expired++;
        }

        if (expired > 0)
        {
            _events.RemoveRange(0, expired);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
