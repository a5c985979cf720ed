using AzKv.Storage;
using AzKv.Wal;
using Microsoft.Extensions.Logging;

namespace AzKv.Partitions;

internal sealed partial class PartitionRecovery
{
    /// <summary>Bytes fetched per range read while scanning a segment.</summary>
    private const int ScanChunkBytes = 4 * 1024 * 1024;

    /// <summary>
    /// Reads and decodes a segment. Every record must decode, in LSN order from the segment's
    /// start; anything else is corruption and throws <see cref="CorruptDataException"/> (logged and
    /// counted). With <paramref name="length"/> (a closed segment) every byte up to it must decode.
    /// Without it (the active segment of a dead owner) the one exception is a torn tail: an
    /// incomplete record at the very end of the blob, logged, counted and excluded. Append Block is
    /// atomic, so a complete record that fails its checksum or is out of LSN order is never torn:
    /// treating it as a tail would silently drop every acknowledged record after it.
    /// </summary>
    private async Task<ScannedSegment> ScanSegmentAsync(ManifestSegment segment, long? length, CancellationToken cancellationToken)
    {
        var store = _store;
        var partition = _partition;
        var logger = _logger;
        var closed = length.HasValue;
        var end = length ?? (await store.GetPropertiesAsync(segment.Name, default, cancellationToken).ConfigureAwait(false)).ContentLength;
        var records = new List<ScannedRecord>();
        var expectedLsn = segment.StartLsn;
        var window = new byte[Math.Min(ScanChunkBytes, Math.Max(end, 1))];
        var windowStart = 0L; // blob offset of window[0]
        var windowCount = 0;
        var fetched = 0L;
        var consumedInWindow = 0;
        string? tornReason = null;

        while (true)
        {
            var available = window.AsSpan(consumedInWindow, windowCount - consumedInWindow);
            var view = default(WalRecordView);
            var consumed = 0;
            var status = available.IsEmpty ? WalReadStatus.Incomplete : WalReader.TryReadNext(available, out view, out consumed);
            if (status == WalReadStatus.Ok)
            {
                if ((long)view.Lsn != expectedLsn)
                {
                    throw Corrupt(logger, partition, segment, windowStart + consumedInWindow, $"LSN {view.Lsn} where {expectedLsn} was expected");
                }

                var record = view.ToRecord();
                records.Add(new ScannedRecord((long)record.Lsn, record.Key, record.Write, record.Idempotency, record.Writer));
                expectedLsn++;
                consumedInWindow += consumed;
                continue;
            }

            if (status == WalReadStatus.Corrupt)
            {
                WalReader.TryReadNext(available, out _, out _, out var corruption);
                throw Corrupt(logger, partition, segment, windowStart + consumedInWindow, "corrupt record: " + corruption);
            }

            // Incomplete: fetch more, or we are at the end.
            if (fetched >= end)
            {
                if (consumedInWindow < windowCount)
                {
                    tornReason = "incomplete record";
                    if (closed)
                    {
                        throw Corrupt(logger, partition, segment, windowStart + consumedInWindow, tornReason);
                    }
                }

                break;
            }

            // Compact, grow if one record needs more than the window, then read the next chunk.
            var leftover = windowCount - consumedInWindow;
            var needed = WalReader.TryPeekLength(window.AsSpan(consumedInWindow, leftover), out var recordLength) ? recordLength : 0;
            var size = Math.Max(window.Length, Math.Max(needed, leftover + 1));
            var next = size == window.Length ? window : new byte[size];
            Buffer.BlockCopy(window, consumedInWindow, next, 0, leftover);
            window = next;
            windowStart += consumedInWindow;
            consumedInWindow = 0;
            windowCount = leftover;
            var toRead = (int)Math.Min(window.Length - windowCount, end - fetched);
            var download = await store.DownloadAsync(segment.Name, new BlobRange(fetched, toRead), default, cancellationToken).ConfigureAwait(false);
            if (download.Content.Length == 0)
            {
                break;
            }

            download.Content.Span.CopyTo(window.AsSpan(windowCount));
            windowCount += download.Content.Length;
            fetched += download.Content.Length;
        }

        var validLength = windowStart + consumedInWindow;
        if (!closed && validLength < end)
        {
            PartitionMetrics.TornTails.Add(1);
            PartitionLog.TornTail(logger, partition, segment.Name, validLength, end - validLength, tornReason ?? "incomplete record");
        }

        return new ScannedSegment(segment.Name, validLength, expectedLsn - 1, records);
    }

    private static CorruptDataException Corrupt(ILogger logger, int partition, ManifestSegment segment, long offset, string reason)
    {
        PartitionMetrics.CorruptSegments.Add(1);
        PartitionLog.CorruptData(logger, partition, segment.Name, offset, reason);
        return new CorruptDataException(segment.Name, offset, reason);
    }
}
