using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AzKv.Partitions;
using AzKv.Storage;
using AzKv.Versioning;

namespace AzKv.Replication;

/// <summary>One version of a conflict, as the log records it.</summary>
/// <param name="Region">The region that accepted the write (the dot's region).</param>
/// <param name="Counter">The dot's counter.</param>
/// <param name="Hlc">The write's hybrid logical clock.</param>
/// <param name="Tombstone">True for a delete.</param>
/// <param name="ContentType">The value's content type (null for a tombstone, and for winners).</param>
/// <param name="Value">The value (losers only, so a lost write can be recovered), null otherwise.</param>
public sealed record ConflictVersion(string Region, ulong Counter, long Hlc, bool Tombstone, string? ContentType, byte[]? Value)
{
    /// <summary>
    /// Where a loser's value is when it was too large to keep in the log line
    /// (<see cref="StorageLayout.ConflictValue"/>); <see cref="Value"/> is null in the log then,
    /// and <see cref="ConflictLog.ReadAsync"/> fills it from this blob.
    /// </summary>
    public string? ValueBlob { get; init; }

    /// <summary>The length of the value kept in <see cref="ValueBlob"/>.</summary>
    public int? ValueLength { get; init; }

    internal static ConflictVersion From(VersionedValue version, bool withValue) => new(
        version.Dot.Region,
        version.Dot.Counter,
        version.Hlc,
        version.IsTombstone,
        version.IsTombstone ? null : version.ContentType,
        withValue && !version.IsTombstone ? version.Value.ToArray() : null);
}

/// <summary>
/// A last-writer-wins loser: a version concurrent with the key's winner that reads no longer show.
/// Every region that sees the same concurrent versions records the same (key, loser dot).
/// </summary>
/// <param name="Key">The key.</param>
/// <param name="Detected">When this region applied the write that made the conflict visible.</param>
/// <param name="Region">The region that detected it.</param>
/// <param name="Winner">The version reads show (without its value).</param>
/// <param name="Loser">The version that lost, with its value.</param>
public sealed record ConflictEntry(string Key, DateTimeOffset Detected, string Region, ConflictVersion Winner, ConflictVersion Loser);

/// <summary>
/// The conflict log of one partition for one ownership epoch: append blobs of JSON lines at
/// <see cref="StorageLayout.ConflictLog"/>. Only the owner of the epoch writes it (no other writer
/// uses the name), every append is conditional on the append position, and a reader deduplicates
/// entries by (key, loser dot), so recording an entry twice (a replay after a crash) is harmless.
/// </summary>
public sealed class ConflictLog
{
    /// <summary>Blocks per blob before the next sequence number is used (the service allows 50,000).</summary>
    private const int MaxBlocksPerBlob = 45_000;

    /// <summary>
    /// A loser value larger than this (64 KiB) is kept in a blob of its own and the log line
    /// refers to it. A line must fit one Append Block (4 MiB, and base64 grows a value by a
    /// third): without this, a loser over ~3 MiB made every append of the partition's log fail
    /// with 413 and stalled its replication. 64 KiB keeps log lines small enough that a reader
    /// listing conflicts does not download megabytes per entry of other keys.
    /// </summary>
    internal const int MaxInlineValueBytes = 64 * 1024;

    private readonly IBlobStore _store;
    private readonly int _partition;
    private readonly long _epoch;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _sequence;
    private long? _length;
    private int _blocks;

    /// <summary>Creates the log of <paramref name="partition"/> for the owner of <paramref name="epoch"/>.</summary>
    public ConflictLog(IBlobStore store, int partition, long epoch)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _partition = partition;
        _epoch = epoch;
    }

    /// <summary>Appends entries durably (completes after the blob service acknowledged every block).</summary>
    public async Task AppendAsync(IReadOnlyList<ConflictEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var inline = new ConflictEntry[entries.Count];
            for (var i = 0; i < entries.Count; i++)
            {
                inline[i] = await MoveLargeValueAsync(entries[i], cancellationToken).ConfigureAwait(false);
            }

            foreach (var block in Blocks(inline))
            {
                await AppendBlockAsync(block, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Reads every partition's conflict log and returns the entries whose key starts with
    /// <paramref name="prefix"/>, one per (key, loser dot), oldest first, at most <paramref name="limit"/>.
    /// </summary>
    public static async Task<IReadOnlyList<ConflictEntry>> ReadAsync(IBlobStore store, string prefix, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var seen = new HashSet<(string Key, string Region, ulong Counter)>();
        var found = new List<ConflictEntry>();
        string? continuation = null;
        do
        {
            var page = await store.ListAsync(StorageLayout.ConflictPrefix, continuation, 1000, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                BlobDownload download;
                try
                {
                    download = await store.DownloadAsync(item.Name, BlobRange.All, default, cancellationToken).ConfigureAwait(false);
                }
                catch (BlobStorageException ex) when (ex.IsNotFound || ex.IsInvalidRange)
                {
                    continue; // deleted meanwhile, or created and still empty
                }

                foreach (var entry in Parse(download.Content))
                {
                    if (entry.Key.StartsWith(prefix, StringComparison.Ordinal) && seen.Add((entry.Key, entry.Loser.Region, entry.Loser.Counter)))
                    {
                        found.Add(entry);
                    }
                }
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);

        var result = found.OrderBy(e => e.Detected).ThenBy(e => e.Key, StringComparer.Ordinal).Take(limit).ToList();
        for (var i = 0; i < result.Count; i++)
        {
            result[i] = await LoadLargeValueAsync(store, result[i], cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    /// <summary>
    /// Keeps a loser value over <see cref="MaxInlineValueBytes"/> in a blob of its own, created only
    /// if absent (the name is the key and loser dot, so a replay finds the same value there), and
    /// returns the entry referring to it.
    /// </summary>
    private async Task<ConflictEntry> MoveLargeValueAsync(ConflictEntry entry, CancellationToken cancellationToken)
    {
        if (entry.Loser.Value is not { Length: > MaxInlineValueBytes } value)
        {
            return entry;
        }

        var name = StorageLayout.ConflictValue(_partition, ValueId(entry.Key, entry.Loser.Region, entry.Loser.Counter));
        try
        {
            await _store.PutBlockBlobAsync(
                name,
                value,
                new BlobWriteOptions { ContentType = entry.Loser.ContentType ?? "application/octet-stream", Conditions = BlobConditions.IfNotExists },
                cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStorageException ex) when (ex.IsAlreadyExists || ex.IsPreconditionFailed)
        {
            // Written by an earlier attempt (a replay after a crash): the same dot has the same value.
        }

        return entry with { Loser = entry.Loser with { Value = null, ValueBlob = name, ValueLength = value.Length } };
    }

    /// <summary>Fills a referenced loser value from its blob; leaves the reference when the blob is gone.</summary>
    private static async Task<ConflictEntry> LoadLargeValueAsync(IBlobStore store, ConflictEntry entry, CancellationToken cancellationToken)
    {
        if (entry.Loser.ValueBlob is not { } name || entry.Loser.Value is not null)
        {
            return entry;
        }

        try
        {
            var download = await store.DownloadAsync(name, BlobRange.All, default, cancellationToken).ConfigureAwait(false);
            return entry with { Loser = entry.Loser with { Value = download.Content.ToArray() } };
        }
        catch (BlobStorageException ex) when (ex.IsNotFound)
        {
            return entry;
        }
    }

    /// <summary>A name-safe id of (key, loser dot): hex SHA-256, so any key maps to a valid blob name.</summary>
    internal static string ValueId(string key, string region, ulong counter)
    {
        var text = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{key}\0{region}\0{counter}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>The entries of one blob; a line that does not parse (a torn write cannot happen: blocks are atomic) is skipped.</summary>
    internal static IEnumerable<ConflictEntry> Parse(ReadOnlyMemory<byte> content)
    {
        var rest = content;
        while (!rest.IsEmpty)
        {
            var end = rest.Span.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? ReadOnlyMemory<byte>.Empty : rest[(end + 1)..];
            if (line.IsEmpty)
            {
                continue;
            }

            ConflictEntry? entry;
            try
            {
                entry = JsonSerializer.Deserialize(line.Span, ConflictJsonContext.Default.ConflictEntry);
            }
            catch (JsonException)
            {
                entry = null;
            }

            if (entry is not null)
            {
                yield return entry;
            }
        }
    }

    private static IEnumerable<byte[]> Blocks(IReadOnlyList<ConflictEntry> entries)
    {
        var block = new MemoryStream();
        foreach (var entry in entries)
        {
            var line = JsonSerializer.SerializeToUtf8Bytes(entry, ConflictJsonContext.Default.ConflictEntry);
            if (block.Length > 0 && block.Length + line.Length + 1 > BlobLimits.MaxAppendBlockBytes)
            {
                yield return block.ToArray();
                block.SetLength(0);
            }

            block.Write(line);
            block.WriteByte((byte)'\n');
        }

        if (block.Length > 0)
        {
            yield return block.ToArray();
        }
    }

    private async Task AppendBlockAsync(byte[] block, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (_length is null || _blocks >= MaxBlocksPerBlob)
            {
                await OpenBlobAsync(cancellationToken).ConfigureAwait(false);
            }

            var name = StorageLayout.ConflictLog(_partition, _epoch, _sequence);
            try
            {
                var result = await _store.AppendBlockAsync(
                    name, block, new AppendConditions { AppendPosition = _length }, cancellationToken).ConfigureAwait(false);
                _length = result.AppendOffset + block.Length;
                _blocks = result.CommittedBlockCount;
                return;
            }
            catch (BlobStorageException ex) when ((ex.IsAppendPositionMismatch || ex.IsOutcomeUnknown) && attempt < 3)
            {
                // A lost answer may mean the block landed: then the entries are there twice, which
                // readers deduplicate. Re-read the length and append after it.
                _length = null;
            }
            catch (BlobStorageException ex) when (ex.IsNotFound && attempt < 3)
            {
                _length = null;
            }
        }
    }

    /// <summary>Finds the blob to append to: the current sequence's, created if missing; the next one when full or sealed.</summary>
    private async Task OpenBlobAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var name = StorageLayout.ConflictLog(_partition, _epoch, _sequence);
            try
            {
                var properties = await _store.GetPropertiesAsync(name, default, cancellationToken).ConfigureAwait(false);
                if (properties.IsSealed || (properties.CommittedBlockCount ?? 0) >= MaxBlocksPerBlob)
                {
                    _sequence++;
                    continue;
                }

                _length = properties.ContentLength;
                _blocks = properties.CommittedBlockCount ?? 0;
                return;
            }
            catch (BlobStorageException ex) when (ex.IsNotFound)
            {
                try
                {
                    await _store.CreateAppendBlobAsync(
                        name,
                        new BlobWriteOptions { ContentType = "application/x-ndjson", Conditions = BlobConditions.IfNotExists },
                        cancellationToken).ConfigureAwait(false);
                    _length = 0;
                    _blocks = 0;
                    return;
                }
                catch (BlobStorageException conflict) when (conflict.IsAlreadyExists || conflict.IsPreconditionFailed)
                {
                    // Created meanwhile (our own earlier attempt): read its length.
                }
            }
        }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ConflictEntry))]
internal sealed partial class ConflictJsonContext : JsonSerializerContext;
