using System.Threading.Channels;
using AzKv.Replication;
using AzKv.Versioning;

namespace AzKv.Partitions;

public sealed partial class PartitionOwner
{
    private ConflictLog? _conflictLog;

    /// <summary>
    /// Applies writes other regions made (replication, or a source checkpoint decomposed with
    /// <see cref="SiblingSet.ToWrites"/>) through the writer, in order: each is merged (DVV) and
    /// logged in this partition's WAL with its own LSN when it changes the key. Completes when every
    /// change is durable and the LWW losers they revealed are in the conflict log; the status is the
    /// first that is not <see cref="WriteStatus.Committed"/> (the caller then retries from its last
    /// saved position: applying is idempotent).
    /// </summary>
    public Task<ApplyOutcome> ApplyAsync(IReadOnlyList<KeyValuePair<string, CausalWrite>> writes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writes);
        return ApplyAsync(writes, writers: null, cancellationToken);
    }

    /// <summary>
    /// As <see cref="ApplyAsync(IReadOnlyList{KeyValuePair{string, CausalWrite}}, CancellationToken)"/>, with who made
    /// each write in its origin region (<paramref name="writers"/>[i] for <paramref name="writes"/>[i]; null entries
    /// or a null list when unknown): recorded in this region's WAL record (tag 4) and as the key's last writer.
    /// </summary>
    public async Task<ApplyOutcome> ApplyAsync(
        IReadOnlyList<KeyValuePair<string, CausalWrite>> writes, IReadOnlyList<Wal.WriterIdentity?>? writers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writes);
        if (writers is not null && writers.Count != writes.Count)
        {
            throw new ArgumentException("One writer (or null) per write.", nameof(writers));
        }

        var pending = new List<PendingWrite>(writes.Count);
        for (var i = 0; i < writes.Count; i++)
        {
            var (key, write) = writes[i];
            if (_stopReason is not null)
            {
                break;
            }

            var item = new PendingWrite(new WriteCommand { Key = key, Kind = WriteKind.Apply, Replicated = write, Writer = writers?[i] }, _time.GetTimestamp());
            try
            {
                await _queue.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                break;
            }

            pending.Add(item);
        }

        var status = pending.Count < writes.Count ? WriteStatus.NotOwner : WriteStatus.Committed;
        var changed = 0;
        var conflicts = new List<ConflictEntry>();
        var detected = _time.GetUtcNow();
        foreach (var item in pending)
        {
            var outcome = await item.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (outcome.Status != WriteStatus.Committed)
            {
                status = status == WriteStatus.Committed ? outcome.Status : status;
                continue;
            }

            if (outcome.Lsn > 0)
            {
                changed++;
            }

            if (item.Conflict is { } conflict)
            {
                var winner = ConflictVersion.From(conflict.Resolved.Siblings[0], withValue: false);
                foreach (var loser in conflict.Losers)
                {
                    conflicts.Add(new ConflictEntry(item.Command.Key, detected, _identity.Region, winner, ConflictVersion.From(loser, withValue: true)));
                }
            }
        }

        if (conflicts.Count > 0 && status == WriteStatus.Committed)
        {
            _conflictLog ??= new ConflictLog(_store, Partition, Epoch);
            await _conflictLog.AppendAsync(conflicts, cancellationToken).ConfigureAwait(false);
            PartitionMetrics.Conflicts.Add(conflicts.Count);
        }

        return new ApplyOutcome(status, pending.Count, changed, conflicts.Count);
    }
}

/// <summary>What <see cref="PartitionOwner.ApplyAsync"/> did.</summary>
/// <param name="Status">Committed when every write was applied (or found already applied).</param>
/// <param name="Applied">Writes that went through the writer.</param>
/// <param name="Changed">Writes that changed state (logged with an LSN); the rest were already known.</param>
/// <param name="Conflicts">LWW losers recorded in the conflict log.</param>
public readonly record struct ApplyOutcome(WriteStatus Status, int Applied, int Changed, int Conflicts);
