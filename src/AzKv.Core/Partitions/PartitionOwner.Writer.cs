using System.Buffers;
using System.Diagnostics;
using AzKv.Storage;
using AzKv.Versioning;
using AzKv.Wal;

namespace AzKv.Partitions;

public sealed partial class PartitionOwner
{
    /// <summary>
    /// The one writer of this partition: drains the queue into a batch, checks each write's
    /// precondition against the state as earlier writes of the batch leave it, encodes the
    /// accepted ones as WAL records, does one Append Block, then publishes the new state and
    /// completes the callers. While an append is in flight the next batch fills the queue.
    /// </summary>
    /// <remarks>
    /// Group-commit sizing: callers whose batch just completed come back a moment later with
    /// their next write (their answer, their next request). Cutting the next batch the instant
    /// the previous one completes leaves them out, and N concurrent callers settle into two
    /// alternating half-size batches, twice the appends for the same writes. So right after a
    /// batch the writer keeps filling the next one until it is as large as the previous batch,
    /// for at most the last append's duration and never more than 4 ms. When the previous batch
    /// held one write, or completed longer ago than that, nothing waits; with independent callers
    /// the wait covers only a shortfall against the previous batch.
    /// </remarks>
    private async Task WriterLoopAsync()
    {
        // A long-lived loop: its spans belong to the writes of each batch, never to whatever span
        // happened to be current when the loop started (a takeover inside some request).
        Activity.Current = null;
        var callers = new List<ActivityContext>();
        var maxGatherWindowTicks = (long)(_options.MaxGatherWindow.TotalSeconds * Stopwatch.Frequency);
        var batch = new List<PendingWrite>(Math.Min(_options.MaxBatchRecords, 1024));
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        var changes = new Dictionary<string, SiblingSet>(StringComparer.Ordinal);
        var keyed = new Dictionary<(string Key, string IdempotencyKey), PendingWrite>();
        var writers = new Dictionary<string, LastWrite?>(StringComparer.Ordinal);
        PendingWrite? carried = null;
        var reader = _queue.Reader;
        var previousBatch = 0;
        long lastCommitTicks = 0;
        long lastCompletedAt = 0;
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                // Phase times (PartitionMetrics.WriterPhase) on the monotonic clock: where a batch's cycle goes.
                var idleSince = Stopwatch.GetTimestamp();
                if (carried is null && !await reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
                {
                    return;
                }

                var batchStarted = Stopwatch.GetTimestamp();
                long gathering = 0;

                batch.Clear();
                buffer.ResetWrittenCount();
                changes.Clear();
                keyed.Clear();
                writers.Clear();
                var state = _state;
                var lsn = state.Lsn;
                var minHlc = IdempotencyWindow.MinHlc(_time.GetUtcNow(), _options.IdempotencyWindow);
                var gatherUntil = GatherDeadline(previousBatch, lastCommitTicks, lastCompletedAt, maxGatherWindowTicks);
                CancellationTokenSource? gatherTimeout = null;
                try
                {
                    // Build the batch: bounded by record count and bytes; a write that does not fit
                    // is carried to the next batch.
                    while (batch.Count < _options.MaxBatchRecords)
                    {
                        PendingWrite? next = carried;
                        carried = null;
                        if (next is null && !reader.TryRead(out next))
                        {
                            if (batch.Count >= previousBatch || gatherUntil == 0)
                            {
                                break;
                            }

                            gatherTimeout ??= StartGatherTimeout(gatherUntil);
                            var waitStarted = Stopwatch.GetTimestamp();
                            var more = gatherTimeout is not null && await WaitForMoreAsync(reader, gatherTimeout.Token).ConfigureAwait(false);
                            gathering += Stopwatch.GetTimestamp() - waitStarted;
                            if (!more)
                            {
                                break;
                            }

                            continue;
                        }

                        // A conservative size bound, checked before deciding, so a decided write is never undone.
                        if (batch.Count > 0 && buffer.WrittenCount + WalCodec.MaxEncodedLength(next.Command) > _options.MaxBatchBytes)
                        {
                            carried = next;
                            break;
                        }

                        if (!Deduplicate(next, state, keyed, minHlc))
                        {
                            Decide(next, state, changes, lsn + 1, buffer);
                            if (IsLogged(next))
                            {
                                writers[next.Command.Key] = next.Command.Writer is { } writer ? new LastWrite(writer, next.Hlc) : null;
                            }
                            if (IsLogged(next) && next.Fingerprint is not null)
                            {
                                keyed[(next.Command.Key, next.Command.IdempotencyKey!)] = next;
                            }
                        }

                        if (IsLogged(next))
                        {
                            lsn++;
                        }

                        batch.Add(next);
                    }
                }
                finally
                {
                    gatherTimeout?.Dispose();
                }

                if (batch.Count == 0)
                {
                    continue;
                }

                previousBatch = batch.Count;
                if (lsn == state.Lsn)
                {
                    // Nothing to write: every write failed its precondition.
                    CompleteBatch(batch, committed: true, inDoubt: false);
                    lastCompletedAt = Stopwatch.GetTimestamp();
                    continue;
                }

                var commitStarted = Stopwatch.GetTimestamp();
                PartitionMetrics.RecordPhase("idle", idleSince, batchStarted);
                PartitionMetrics.RecordPhase("gather", 0, gathering);
                PartitionMetrics.RecordPhase("decide", batchStarted + gathering, commitStarted);
                callers.Clear();
                if (PartitionTracing.IsListening)
                {
                    foreach (var pending in batch)
                    {
                        callers.Add(pending.Caller);
                    }
                }

                using (var append = PartitionTracing.StartAppend(Partition, callers, lsn - state.Lsn, buffer.WrittenCount, lsn))
                {
                    var commit = await CommitAsync(buffer.WrittenMemory, lsn - state.Lsn).ConfigureAwait(false);
                    if (commit != CommitResult.Committed)
                    {
                        append?.SetStatus(
                            ActivityStatusCode.Error,
                            commit == CommitResult.Unknown ? "the owner stepped down; the batch may have committed" : "the owner stepped down; the batch did not commit");
                        CompleteBatch(batch, committed: false, inDoubt: commit == CommitResult.Unknown);
                        return;
                    }
                }

                var committedAt = Stopwatch.GetTimestamp();
                lastCommitTicks = committedAt - commitStarted;
                PartitionMetrics.RecordPhase("commit", commitStarted, committedAt);
                var published = state.With(changes, RecordKeys(state.Idempotency, keyed, minHlc), lsn, writers);
                Volatile.Write(ref _state, published);
                _bytesSinceCheckpoint += buffer.WrittenCount;
                PublishChanges(batch, changes);
                CompleteBatch(batch, committed: true, inDoubt: false);
                lastCompletedAt = Stopwatch.GetTimestamp();
                PartitionMetrics.RecordPhase("apply", committedAt, lastCompletedAt);
                MaybeStartCheckpoint();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (Exception ex)
        {
            // Anything unexpected (a 4xx from storage, a rollover or read-back failure, a bug): the
            // loop cannot go on, so the owner must not look alive. Step down so the lease is released
            // and the host reopens the partition; a successor recovers from the log.
            PartitionLog.WriterFailed(_logger, Partition, ex);
            StepDown("writer failed: " + ex.GetType().Name + ": " + ex.Message);
        }
        finally
        {
            if (carried is not null)
            {
                carried.TryComplete(WriteOutcome.NotOwner);
            }

            // A batch left here by a cancelled or failed append may have landed: its logged writes
            // are in doubt; the rest wrote nothing.
            foreach (var pending in batch)
            {
                pending.TryComplete(_commitInDoubt && IsLoggedOrDuplicate(pending) ? WriteOutcome.OutcomeUnknown : WriteOutcome.NotOwner);
            }

            FailQueued();
        }
    }

    /// <summary>
    /// The Stopwatch timestamp until which the next batch may wait for more writes, or 0 for no
    /// wait: only when the previous batch had concurrent writes and completed less than the
    /// window ago (its callers are on their way back); the window is the last append's duration,
    /// at most <paramref name="maxWindowTicks"/> (<see cref="PartitionOptions.MaxGatherWindow"/>),
    /// counted from that completion.
    /// </summary>
    /// <remarks>
    /// Measured in real time (<see cref="Stopwatch"/>), not on the owner's <see cref="TimeProvider"/>:
    /// it is a throughput heuristic that must never hold a write back on a paused test clock.
    /// </remarks>
    private static long GatherDeadline(int previousBatch, long lastCommitTicks, long lastCompletedAt, long maxWindowTicks)
    {
        if (previousBatch < 2 || lastCommitTicks <= 0 || maxWindowTicks <= 0)
        {
            return 0;
        }

        var window = Math.Min(lastCommitTicks, maxWindowTicks);
        var deadline = lastCompletedAt + window;
        return Stopwatch.GetTimestamp() < deadline ? deadline : 0;
    }

    /// <summary>A token cancelled at <paramref name="deadline"/> or when the owner stops; null when the deadline has passed.</summary>
    private CancellationTokenSource? StartGatherTimeout(long deadline)
    {
        var remaining = deadline - Stopwatch.GetTimestamp();
        if (remaining <= 0)
        {
            return null;
        }

        var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency));
        return timeout;
    }

    /// <summary>Waits for a write to arrive; false when the window closed first (or the queue was completed).</summary>
    private async ValueTask<bool> WaitForMoreAsync(System.Threading.Channels.ChannelReader<PendingWrite> reader, CancellationToken window)
    {
        try
        {
            return await reader.WaitToReadAsync(window).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Checks one write against the batch's view of the state and, if accepted, encodes its record.</summary>
    private void Decide(PendingWrite pending, PartitionState state, Dictionary<string, SiblingSet> changes, long lsn, ArrayBufferWriter<byte> buffer)
    {
        var command = pending.Command;
        var current = changes.TryGetValue(command.Key, out var inBatch) ? inBatch : state.Get(command.Key);
        if (command.Kind == WriteKind.Apply)
        {
            DecideApply(pending, current ?? SiblingSet.Empty, changes, lsn, buffer);
            return;
        }

        // Exists exactly when a GET would show it (the one read model, SiblingSet.View).
        var exists = current is not null && current.View(_options.ConflictPolicies.For(command.Key)).Exists;

        switch (command.Precondition)
        {
            case PreconditionKind.IfMatch when !exists || command.IfMatch is null || !current!.Context.Equals(command.IfMatch):
                pending.Outcome = WriteOutcome.PreconditionFailed;
                return;
            case PreconditionKind.IfNoneMatchAny when exists:
            case PreconditionKind.IfExists when !exists:
                pending.Outcome = WriteOutcome.PreconditionFailed;
                return;
        }

        if (command.Kind == WriteKind.Delete && !exists)
        {
            pending.Outcome = WriteOutcome.NotFound;
            return;
        }

        // A blind write supersedes everything stored (its context is the stored context).
        var set = current ?? SiblingSet.Empty;
        var context = set.Context;
        var hlc = _clock.Now();
        var result = command.Kind == WriteKind.Put
            ? set.Put(_identity.Region, context, command.Value, command.ContentType, hlc)
            : set.Delete(_identity.Region, context, hlc);

        WalIdempotency? idempotency = null;
        if (pending.Fingerprint is { } fingerprint)
        {
            idempotency = new WalIdempotency(command.IdempotencyKey!, fingerprint, created: !exists && command.Kind == WriteKind.Put);
            pending.Entry = new IdempotencyEntry(
                command.Key, command.IdempotencyKey!, fingerprint, command.Kind == WriteKind.Delete, idempotency.Created, result.State.Context, lsn, hlc);
        }

        WalCodec.Encode(buffer, lsn, command.Key, result.Write, idempotency, command.Writer);
        pending.Hlc = hlc;
        changes[command.Key] = result.State;
        pending.Outcome = new WriteOutcome(WriteStatus.Committed, result.State.Context.ToETag(), Created: !exists, Lsn: lsn);
    }

    /// <summary>
    /// Merges a write another region made. Logged (the same write clock, this partition's LSN) only
    /// when it changes the key; either way, when the key then holds concurrent versions under LWW,
    /// the losers are noted on the write for the conflict log (re-noting after a crash is harmless:
    /// the log is read deduplicated).
    /// </summary>
    private void DecideApply(PendingWrite pending, SiblingSet current, Dictionary<string, SiblingSet> changes, long lsn, ArrayBufferWriter<byte> buffer)
    {
        var command = pending.Command;
        var write = command.Replicated!;
        _clock.Observe(write.Version.Hlc);
        var next = current.Apply(write);
        if (next.HasConflict && _options.ConflictPolicies.For(command.Key) == ConflictPolicy.Lww)
        {
            pending.Conflict = next.ResolveLww();
        }

        if (next.Equals(current))
        {
            pending.Outcome = new WriteOutcome(WriteStatus.Committed, current.Context.ToETag(), Created: false, Lsn: 0);
            return;
        }

        WalCodec.Encode(buffer, lsn, command.Key, write, writer: command.Writer);
        pending.Hlc = write.Version.Hlc;
        changes[command.Key] = next;
        pending.Outcome = new WriteOutcome(WriteStatus.Committed, next.Context.ToETag(), Created: false, Lsn: lsn);
    }

    /// <summary>Hands the batch's records to the change feed; <paramref name="states"/> holds each key's state after the batch (as published).</summary>
    private void PublishChanges(List<PendingWrite> batch, Dictionary<string, SiblingSet> states)
    {
        if (_feed is null)
        {
            return;
        }

        var changes = new List<Change>(batch.Count);
        foreach (var pending in batch)
        {
            if (IsLogged(pending))
            {
                var key = pending.Command.Key;
                changes.Add(ToChange(pending.Outcome.Lsn, key, states[key], _options.ConflictPolicies.For(key)));
            }
        }

        _feed.Append(changes);
    }

    /// <summary>The change a record made, as watchers see it: the key's read view (as GET shows it) right after it.</summary>
    internal static Change ToChange(long lsn, string key, SiblingSet set, ConflictPolicy policy)
    {
        var view = set.View(policy);
        return new Change(lsn, key, !view.Exists, set.Context.ToETag(), view.Value?.ContentType, view.Value?.Value.Length ?? 0);
    }

    /// <summary>True when the write has a record in its batch (it changes the log when the batch commits).</summary>
    private static bool IsLogged(PendingWrite pending) => pending.Outcome is { Status: WriteStatus.Committed, Lsn: > 0, Replayed: false };

    /// <summary>True when the write has a record in its batch or retries one that has: its fate is the batch's.</summary>
    private static bool IsLoggedOrDuplicate(PendingWrite pending) => IsLogged(pending) || (pending.DuplicateOf is { } original && IsLogged(original));

    /// <summary>
    /// Answers a write whose Idempotency-Key was seen before instead of deciding it: a retry of a write committed
    /// within the window gets that write's outcome; a retry of a write earlier in this batch shares its fate
    /// (<see cref="PendingWrite.DuplicateOf"/>); the key with another request is
    /// <see cref="WriteStatus.IdempotencyKeyReused"/>. False when the write is new and must be decided.
    /// </summary>
    private static bool Deduplicate(PendingWrite pending, PartitionState state, Dictionary<(string, string), PendingWrite> keyed, long minHlc)
    {
        if (pending.Fingerprint is not { } fingerprint)
        {
            return false;
        }

        var command = pending.Command;
        if (keyed.TryGetValue((command.Key, command.IdempotencyKey!), out var original))
        {
            if (original.Fingerprint.AsSpan().SequenceEqual(fingerprint))
            {
                pending.DuplicateOf = original;
                pending.Outcome = original.Outcome with { Replayed = true };
            }
            else
            {
                pending.Outcome = WriteOutcome.IdempotencyKeyReused;
            }

            return true;
        }

        if (state.Idempotency.Find(command.Key, command.IdempotencyKey!, minHlc) is not { } entry)
        {
            return false;
        }

        pending.Outcome = entry.Matches(fingerprint) ? entry.ToOutcome() : WriteOutcome.IdempotencyKeyReused;
        return true;
    }

    /// <summary>The window after a batch: the batch's keyed writes recorded with their outcomes, expired keys dropped.</summary>
    private static IdempotencyWindow RecordKeys(IdempotencyWindow window, Dictionary<(string, string), PendingWrite> keyed, long minHlc)
    {
        if (keyed.Count == 0)
        {
            return window.With([], minHlc);
        }

        var added = new List<IdempotencyEntry>(keyed.Count);
        foreach (var pending in keyed.Values)
        {
            added.Add(pending.Entry!);
        }

        added.Sort(static (a, b) => a.Lsn.CompareTo(b.Lsn));
        return window.With(added, minHlc);
    }

    /// <summary>
    /// Completes the batch's callers. Not committed: a write with a record in the batch is
    /// <see cref="WriteStatus.OutcomeUnknown"/> when <paramref name="inDoubt"/> (the append may have
    /// landed), otherwise not owner / unavailable (definitely not written); a write without a
    /// record wrote nothing either way.
    /// </summary>
    private void CompleteBatch(List<PendingWrite> batch, bool committed, bool inDoubt)
    {
        var now = _time.GetTimestamp();
        var failed = _stopReason is null ? WriteOutcome.Unavailable : WriteOutcome.NotOwner;
        foreach (var pending in batch)
        {
            var outcome = committed ? pending.Outcome : (inDoubt && IsLoggedOrDuplicate(pending) ? WriteOutcome.OutcomeUnknown : failed);
            PartitionMetrics.Writes.Add(1, PartitionMetrics.Outcome(OutcomeTag(outcome.Status)));
            if (outcome.Status == WriteStatus.Committed)
            {
                PartitionMetrics.CommitLatency.Record(_time.GetElapsedTime(pending.EnqueuedTimestamp, now).TotalMilliseconds);
            }

            pending.TryComplete(outcome);
        }

        batch.Clear();
    }

    private static string OutcomeTag(WriteStatus status) => status switch
    {
        WriteStatus.Committed => "committed",
        WriteStatus.PreconditionFailed => "precondition_failed",
        WriteStatus.NotFound => "not_found",
        WriteStatus.NotOwner => "not_owner",
        WriteStatus.OutcomeUnknown => "outcome_unknown",
        WriteStatus.IdempotencyKeyReused => "idempotency_key_reused",
        _ => "unavailable",
    };

    private enum CommitResult
    {
        /// <summary>Durable.</summary>
        Committed,

        /// <summary>Definitely not written (fenced or storage refused before anything could land); the owner stepped down.</summary>
        Failed,

        /// <summary>An attempt may have landed and it could not be learned whether it did; the owner stepped down.</summary>
        Unknown,
    }

    /// <summary>
    /// Appends one batch (one block) at the known position under the lease. Anything but
    /// <see cref="CommitResult.Committed"/> means the owner stepped down. While an attempt is in
    /// flight, or after one whose outcome is unknown, <see cref="_commitInDoubt"/> is set, so a
    /// cancellation or unexpected error escaping from here reports the batch as in doubt.
    /// </summary>
    private async Task<CommitResult> CommitAsync(ReadOnlyMemory<byte> block, long records)
    {
        _commitInDoubt = false;
        if (_segmentBlocks >= _options.SegmentRolloverBlocks || _segmentLength + block.Length > _options.SegmentRolloverBytes)
        {
            if (!await RollOverAsync().ConfigureAwait(false))
            {
                return CommitResult.Failed;
            }
        }

        var started = _time.GetTimestamp();
        var backoff = TimeSpan.FromMilliseconds(50);
        var ambiguous = false; // an earlier attempt may have landed
        while (true)
        {
            if (!_lease.IsValid)
            {
                StepDown("the lease could not be renewed in time");
                return ambiguous ? CommitResult.Unknown : CommitResult.Failed;
            }

            var appendStarted = _time.GetTimestamp();
            try
            {
                _commitInDoubt = true;
                var result = await _store.AppendBlockAsync(
                    _lease.BlobName,
                    block,
                    new AppendConditions { LeaseId = _lease.LeaseId, AppendPosition = _segmentLength },
                    _stopping.Token).ConfigureAwait(false);
                Committed(block.Length, result.CommittedBlockCount, records, appendStarted);
                _commitInDoubt = false;
                return CommitResult.Committed;
            }
            catch (BlobStorageException ex) when (ex.IsAppendPositionMismatch)
            {
                // Either an earlier attempt whose answer was lost did land, or someone else wrote.
                switch (await ReadBackAsync(block, started).ConfigureAwait(false))
                {
                    case (ReadBack.Landed, var committedBlocks):
                        PartitionLog.AmbiguousAppendLanded(_logger, Partition);
                        Committed(block.Length, committedBlocks, records, appendStarted);
                        _commitInDoubt = false;
                        return CommitResult.Committed;
                    case (ReadBack.NotLanded, _):
                        // Another writer holds our position: our block can never land there.
                        _commitInDoubt = false;
                        StepDown("the segment's length changed under us (another writer)");
                        return CommitResult.Failed;
                    case (ReadBack.Torn, _):
                        StepDown("an append whose answer was lost landed torn (a prefix of the block)");
                        return CommitResult.Unknown;
                    default:
                        StepDown("could not read back an append whose answer was lost within the retry budget");
                        return CommitResult.Unknown;
                }
            }
            catch (BlobStorageException ex) when (ex.IsLeaseLost || ex.IsBlobSealed || ex.IsNotFound)
            {
                // This attempt was refused, but an earlier one may have landed before the fence.
                _commitInDoubt = ambiguous;
                PartitionMetrics.Appends.Add(1, PartitionMetrics.Outcome("fenced"));
                _lease.MarkLost("append refused: " + ex.ErrorCode);
                StepDown("an append was fenced: " + ex.ErrorCode);
                return ambiguous ? CommitResult.Unknown : CommitResult.Failed;
            }
            catch (BlobStorageException ex) when (ex.IsTransient)
            {
                ambiguous |= ex.MayHaveBeenApplied;
                _commitInDoubt = ambiguous;
                PartitionMetrics.Appends.Add(1, PartitionMetrics.Outcome("retry"));
                PartitionLog.AppendRetry(_logger, Partition, ex.Message);
                if (_time.GetElapsedTime(started) > _options.TransientRetryBudget)
                {
                    StepDown("storage stayed unavailable past the retry budget");
                    return ambiguous ? CommitResult.Unknown : CommitResult.Failed;
                }

                await Task.Delay(backoff, _time, _stopping.Token).ConfigureAwait(false);
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 1000));
            }
            catch (BlobStorageException ex) when (!ex.MayHaveBeenApplied)
            {
                // A definite refusal nobody expects (400, 401, 403, 409, 413...): the writer loop steps down.
                _commitInDoubt = ambiguous;
                throw;
            }
        }
    }

    private void Committed(int bytes, int committedBlocks, long records, long appendStarted)
    {
        PartitionMetrics.AppendLatency.Record(_time.GetElapsedTime(appendStarted).TotalMilliseconds);
        PartitionMetrics.Appends.Add(1, PartitionMetrics.Outcome("ok"));
        PartitionMetrics.RecordsPerAppend.Record((int)records);
        PartitionMetrics.WalBytes.Add(bytes);
        _segmentLength += bytes;
        Volatile.Write(ref _segmentBlocks, committedBlocks);
    }

    private enum ReadBack
    {
        Landed,
        NotLanded,
        Torn,
        Unknown,
    }

    /// <summary>
    /// Decides whether an append whose answer was lost landed: true when the bytes at our expected
    /// position are exactly this block (then also the segment's committed block count). Transient
    /// read failures are retried within the commit's retry budget (counted from
    /// <paramref name="commitStarted"/>); past it the answer is <see cref="ReadBack.Unknown"/>.
    /// </summary>
    private async Task<(ReadBack Result, int CommittedBlocks)> ReadBackAsync(ReadOnlyMemory<byte> block, long commitStarted)
    {
        var backoff = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            try
            {
                BlobDownload download;
                try
                {
                    download = await _store.DownloadAsync(
                        _lease.BlobName, new BlobRange(_segmentLength, block.Length), default, _stopping.Token).ConfigureAwait(false);
                }
                catch (BlobStorageException ex) when (ex.IsInvalidRange)
                {
                    return (ReadBack.NotLanded, 0);
                }

                if (download.Content.Length < block.Length && block.Span.StartsWith(download.Content.Span))
                {
                    // Our own block, cut short (a torn append): recovery keeps its complete records,
                    // so some writes of the batch may survive. Never report this as "not written".
                    return (ReadBack.Torn, 0);
                }

                if (!download.Content.Span.SequenceEqual(block.Span))
                {
                    return (ReadBack.NotLanded, 0);
                }

                var properties = await _store.GetPropertiesAsync(_lease.BlobName, default, _stopping.Token).ConfigureAwait(false);
                return (ReadBack.Landed, properties.CommittedBlockCount ?? _segmentBlocks + 1);
            }
            catch (BlobStorageException ex) when (ex.IsTransient)
            {
                PartitionLog.AppendRetry(_logger, Partition, "read-back: " + ex.Message);
                if (_time.GetElapsedTime(commitStarted) > _options.TransientRetryBudget)
                {
                    return (ReadBack.Unknown, 0);
                }

                await Task.Delay(backoff, _time, _stopping.Token).ConfigureAwait(false);
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 1000));
            }
        }
    }

    private void FailQueued()
    {
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var pending))
        {
            pending.TryComplete(WriteOutcome.NotOwner);
        }
    }
}
