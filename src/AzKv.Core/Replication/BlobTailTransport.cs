using AzKv.Partitions;
using AzKv.Storage;
using AzKv.Wal;

namespace AzKv.Replication;

/// <summary>
/// Tails a source region's WAL through its manifests (range reads of append blobs). Follows
/// rollovers and takeovers (a sealed segment is read up to the length its manifest records, then
/// the next segment), trusts only complete, valid records (an active segment's torn tail is left
/// for the source's next owner to cut), and answers with the source's latest checkpoint when
/// retention deleted the segments at the position.
/// </summary>
public sealed class BlobTailTransport : IReplicationTransport
{
    /// <summary>Bytes fetched per range read.</summary>
    private const int ChunkBytes = 1024 * 1024;

    private readonly IBlobStore _source;
    private readonly ManifestStore _manifests;

    /// <summary>Creates a transport over the source region's storage (read access is enough).</summary>
    public BlobTailTransport(string sourceRegion, IBlobStore sourceStorage)
    {
        ArgumentNullException.ThrowIfNull(sourceStorage);
        SourceRegion = sourceRegion;
        _source = sourceStorage;
        _manifests = new ManifestStore(sourceStorage);
    }

    /// <inheritdoc />
    public string SourceRegion { get; }

    /// <inheritdoc />
    public async Task<ReplicationBatch> ReadAsync(int partition, ReplicationPosition? from, int maxRecords, ReplicationScope scope, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecords, 1);
        PartitionManifest? manifest;
        try
        {
            manifest = (await _manifests.ReadAsync(partition, cancellationToken).ConfigureAwait(false))?.Manifest;
        }
        catch (BlobStorageException ex) when (ex.IsContainerNotFound)
        {
            // The source region has not been created yet (its first node has not started): nothing to read.
            manifest = null;
        }

        if (manifest is null || manifest.Segments.Count == 0)
        {
            return new ReplicationBatch([], from, null);
        }

        var lsn = from?.Lsn ?? 0;
        var index = from is null ? -1 : IndexOf(manifest, from.Segment);
        var offset = from?.Offset ?? 0;
        if (index < 0)
        {
            // Position unknown to the manifest (first read, or deleted by retention): find the
            // segment holding lsn + 1; if retention took it, catch up from the checkpoint.
            index = IndexHolding(manifest, lsn + 1);
            offset = 0;
            if (index < 0 || manifest.Segments[index].StartLsn > lsn + 1)
            {
                return await CatchUpAsync(partition, manifest, cancellationToken).ConfigureAwait(false);
            }
        }

        // Resuming inside a segment: the record at the offset must be the next LSN, or the source's
        // storage was recreated under the same names (see SourceResetException).
        var verifyResume = offset > 0;
        var records = new List<ReplicatedRecord>();
        var position = from;
        while (records.Count < maxRecords && index < manifest.Segments.Count)
        {
            var segment = manifest.Segments[index];
            var end = segment.Sealed
                ? segment.Length ?? 0
                : (await _source.GetPropertiesAsync(segment.Name, default, cancellationToken).ConfigureAwait(false)).ContentLength;
            if (offset > end && records.Count == 0)
            {
                // The segment is shorter than our position: the source region's storage was
                // recreated (same names, new data). Start over from its beginning; applying again
                // what we already have is harmless.
                return await ReadAsync(partition, null, maxRecords, scope, cancellationToken).ConfigureAwait(false);
            }

            if (offset < end)
            {
                try
                {
                    (offset, lsn) = await ReadSegmentAsync(segment, offset, end, lsn, maxRecords, scope, verifyResume, records, cancellationToken).ConfigureAwait(false);
                }
                catch (SourceResetException) when (from is not null)
                {
                    return await ReadAsync(partition, null, maxRecords, scope, cancellationToken).ConfigureAwait(false);
                }

                verifyResume = false;
                position = new ReplicationPosition(segment.Name, offset, lsn);
            }

            if (!segment.Sealed || offset < end)
            {
                break; // the active segment's end (more will come), or the batch is full
            }

            index++;
            offset = 0;
            if (index < manifest.Segments.Count)
            {
                position = new ReplicationPosition(manifest.Segments[index].Name, 0, lsn);
            }
        }

        return new ReplicationBatch(records, position, null);
    }

    private async Task<(long Offset, long Lsn)> ReadSegmentAsync(
        ManifestSegment segment, long offset, long end, long lsn, int maxRecords, ReplicationScope scope, bool verifyResume, List<ReplicatedRecord> output, CancellationToken cancellationToken)
    {
        var first = verifyResume;
        var buffer = Array.Empty<byte>();
        var count = 0;
        var read = offset;
        while (output.Count < maxRecords)
        {
            var span = buffer.AsSpan(0, count);
            var view = default(WalRecordView);
            var consumed = 0;
            var status = span.IsEmpty ? WalReadStatus.Incomplete : WalReader.TryReadNext(span, out view, out consumed);
            if (first && (status == WalReadStatus.Corrupt || (status == WalReadStatus.Ok && (long)view.Lsn != lsn + 1)))
            {
                throw new SourceResetException();
            }

            if (status == WalReadStatus.Ok)
            {
                first = false;
                var recordLsn = (long)view.Lsn;
                if (recordLsn > lsn)
                {
                    if (recordLsn != lsn + 1 && lsn != 0)
                    {
                        throw new PartitionStorageException(
                            $"Region {SourceRegion}: LSN gap in {segment.Name} at offset {offset}: {recordLsn} after {lsn}.");
                    }

                    if (scope == ReplicationScope.AllOrigins || view.IsFromRegion(SourceRegion))
                    {
                        var record = view.ToRecord();
                        output.Add(new ReplicatedRecord(recordLsn, record.Key, record.Write, record.Writer));
                    }

                    lsn = recordLsn;
                }

                offset += consumed;
                Buffer.BlockCopy(buffer, consumed, buffer, 0, count - consumed);
                count -= consumed;
                continue;
            }

            if (status == WalReadStatus.Corrupt)
            {
                if (segment.Sealed)
                {
                    throw new PartitionStorageException($"Region {SourceRegion}: segment {segment.Name} is corrupt at offset {offset} inside its recorded length.");
                }

                break; // a torn tail of the active segment: its next owner cuts it
            }

            if (read >= end)
            {
                break; // incomplete at the end: wait for more (or for the seal)
            }

            var needed = WalReader.TryPeekLength(buffer.AsSpan(0, count), out var length) ? length : 0;
            var size = Math.Max(Math.Max(ChunkBytes, needed), count);
            if (buffer.Length < size)
            {
                Array.Resize(ref buffer, size);
            }

            var take = (int)Math.Min(buffer.Length - count, end - read);
            var download = await _source.DownloadAsync(segment.Name, new BlobRange(read, take), default, cancellationToken).ConfigureAwait(false);
            if (download.Content.IsEmpty)
            {
                break;
            }

            download.Content.Span.CopyTo(buffer.AsSpan(count));
            count += download.Content.Length;
            read += download.Content.Length;
        }

        return (offset, lsn);
    }

    private async Task<ReplicationBatch> CatchUpAsync(int partition, PartitionManifest manifest, CancellationToken cancellationToken)
    {
        if (manifest.Checkpoint is not { } checkpoint)
        {
            throw new PartitionStorageException(
                $"Region {SourceRegion}, partition {partition}: the log no longer starts at LSN 1 and there is no checkpoint to catch up from.");
        }

        var download = await _source.DownloadAsync(checkpoint.Name, BlobRange.All, default, cancellationToken).ConfigureAwait(false);
        var state = CheckpointCodec.Deserialize(partition, checkpoint.Name, download.Content);
        var next = IndexHolding(manifest, state.Lsn + 1);
        var position = next >= 0
            ? new ReplicationPosition(manifest.Segments[next].Name, 0, state.Lsn)
            : new ReplicationPosition(manifest.Segments[^1].Name, 0, state.Lsn);
        return new ReplicationBatch([], position, state);
    }

    private static int IndexOf(PartitionManifest manifest, string segment)
    {
        for (var i = 0; i < manifest.Segments.Count; i++)
        {
            if (manifest.Segments[i].Name == segment)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The segment whose LSN range holds <paramref name="lsn"/>: sealed ones by their end, the active one from its start.</summary>
    private static int IndexHolding(PartitionManifest manifest, long lsn)
    {
        for (var i = 0; i < manifest.Segments.Count; i++)
        {
            var segment = manifest.Segments[i];
            if (!segment.Sealed || segment.EndLsn >= lsn)
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>
/// The record at a saved position is not the next one: the source region's storage was recreated
/// (a region rebuilt from scratch reuses segment names). The reader starts over from the beginning.
/// </summary>
internal sealed class SourceResetException : Exception;
