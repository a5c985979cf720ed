using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using AzKv.Server.Api;
using AzKv.Storage;

namespace AzKv.Server.Snapshots;

/// <summary>
/// Snapshots in the cluster's container (docs/storage-layout.md): one immutable block blob per snapshot,
/// <c>snapshots/{name}.jsonl</c>, written once with If-None-Match: * (a name is never overwritten) and deleted with
/// If-Match on the ETag that was read. The blob is JSON Lines: the metadata (<see cref="SnapshotInfo"/>) on the
/// first line, then one item per line in entry-key order. Its <c>expires</c> metadata (Unix seconds) lets the sweep
/// find expired snapshots without reading them. Every expiry decision is taken on the injected clock.
/// </summary>
internal sealed class SnapshotStore
{
    /// <summary>Where the blobs live.</summary>
    public const string Prefix = AzKv.Partitions.StorageLayout.SnapshotPrefix;

    /// <summary>The blob's content type.</summary>
    public const string ContentType = "application/x-ndjson";

    /// <summary>How many bytes of a blob are read to find its metadata line (a longer line is read whole).</summary>
    private const int HeaderReadBytes = 64 * 1024;

    /// <summary>How many parsed snapshots are kept in memory for paging (they never change, so a cached copy is always right for its ETag).</summary>
    private const int CachedSnapshots = 4;

    private readonly IBlobStore _store;
    private readonly TimeProvider _time;
    private ImmutableList<(string Name, string ETag, SnapshotContent Content)> _cache = [];

    public SnapshotStore(IBlobStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
    }

    /// <summary>The clock every expiry decision is taken on (creation time, expiry, the sweep).</summary>
    public TimeProvider Time => _time;

    /// <summary>The blob of snapshot <paramref name="name"/>.</summary>
    public static string BlobName(string name) => AzKv.Partitions.StorageLayout.Snapshot(name);

    /// <summary>True when the snapshot has expired at <paramref name="now"/>.</summary>
    public static bool IsExpired(SnapshotInfo info, DateTimeOffset now) => now >= info.Expires;

    /// <summary>Encodes the blob: the metadata line, then one line per item.</summary>
    public static byte[] Encode(SnapshotInfo info, IReadOnlyList<ListItem> items)
    {
        using var buffer = new MemoryStream();
        JsonSerializer.Serialize(buffer, info with { ETag = null }, ApiJson.Context.SnapshotInfo);
        buffer.WriteByte((byte)'\n');
        foreach (var item in items)
        {
            JsonSerializer.Serialize(buffer, item, ApiJson.Context.ListItem);
            buffer.WriteByte((byte)'\n');
        }

        return buffer.ToArray();
    }

    /// <summary>The size an item takes in the blob (its line).</summary>
    public static long EncodedSize(ListItem item) => JsonSerializer.SerializeToUtf8Bytes(item, ApiJson.Context.ListItem).Length + 1;

    /// <summary>Writes a new snapshot; false when one of that name exists (expired or not).</summary>
    public async Task<bool> TryCreateAsync(byte[] content, SnapshotInfo info, CancellationToken cancellationToken)
    {
        var options = new BlobWriteOptions
        {
            ContentType = ContentType,
            Conditions = BlobConditions.IfNotExists,
            Metadata = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["expires"] = info.Expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            },
        };
        try
        {
            await _store.PutBlockBlobAsync(BlobName(info.Name), content, options, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (BlobStorageException ex) when (ex.IsPreconditionFailed || ex.IsAlreadyExists)
        {
            return false;
        }
    }

    /// <summary>The metadata of a snapshot (expired or not), or null when there is none.</summary>
    public async Task<SnapshotInfo?> ReadInfoAsync(string name, CancellationToken cancellationToken)
    {
        if (Cached(name) is { } cached)
        {
            // A cached copy is only good while its blob is: a deleted (or deleted and re-created) snapshot is read again.
            try
            {
                var properties = await _store.GetPropertiesAsync(BlobName(name), BlobConditions.None, cancellationToken).ConfigureAwait(false);
                if (properties.ETag == cached.Info.ETag)
                {
                    return cached.Info;
                }
            }
            catch (BlobStorageException ex) when (ex.IsNotFound)
            {
                return null;
            }
        }

        BlobDownload download;
        try
        {
            download = await _store.DownloadAsync(BlobName(name), new BlobRange(0, HeaderReadBytes), BlobConditions.None, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStorageException ex) when (ex.IsNotFound || ex.IsInvalidRange)
        {
            return null;
        }

        var span = download.Content.Span;
        var end = span.IndexOf((byte)'\n');
        if (end < 0)
        {
            if (download.Properties.ContentLength <= download.Content.Length)
            {
                throw new InvalidDataException($"Snapshot blob {BlobName(name)} has no metadata line.");
            }

            return (await ReadAsync(name, cancellationToken).ConfigureAwait(false))?.Info;
        }

        var info = JsonSerializer.Deserialize(span[..end], ApiJson.Context.SnapshotInfo)
            ?? throw new InvalidDataException($"Snapshot blob {BlobName(name)} has no metadata.");
        return info with { ETag = download.Properties.ETag };
    }

    /// <summary>The whole snapshot (expired or not), or null when there is none.</summary>
    public async Task<SnapshotContent?> ReadAsync(string name, CancellationToken cancellationToken)
    {
        if (Cached(name) is { } cached && await ReadInfoAsync(name, cancellationToken).ConfigureAwait(false) is { } current && current.ETag == cached.Info.ETag)
        {
            return cached;
        }

        BlobDownload download;
        try
        {
            download = await _store.DownloadAsync(BlobName(name), BlobRange.All, BlobConditions.None, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStorageException ex) when (ex.IsNotFound)
        {
            return null;
        }

        var content = Decode(name, download.Content.Span, download.Properties.ETag);
        ImmutableInterlocked.Update(ref _cache, list =>
        {
            var kept = list.RemoveAll(e => e.Name == name);
            return (kept.Count >= CachedSnapshots ? kept.RemoveAt(0) : kept).Add((name, download.Properties.ETag, content));
        });
        return content;
    }

    /// <summary>Every snapshot's metadata (expired ones included), in name order, one page of blobs at a time.</summary>
    public async Task<(IReadOnlyList<SnapshotInfo> Items, string? Next)> ListAsync(string? continuation, int pageSize, CancellationToken cancellationToken)
    {
        var page = await _store.ListAsync(Prefix, continuation, pageSize, cancellationToken).ConfigureAwait(false);
        var infos = await Task.WhenAll(page.Items
            .Where(b => b.Name.EndsWith(".jsonl", StringComparison.Ordinal))
            .Select(b => ReadInfoAsync(b.Name[Prefix.Length..^".jsonl".Length], cancellationToken))).ConfigureAwait(false);
        return ([.. infos.OfType<SnapshotInfo>()], page.ContinuationToken);
    }

    /// <summary>Deletes the snapshot if its blob still has <paramref name="etag"/>; false when it is gone or changed.</summary>
    public async Task<bool> DeleteAsync(string name, string etag, CancellationToken cancellationToken)
    {
        try
        {
            await _store.DeleteAsync(BlobName(name), BlobConditions.IfMatchETag(etag), cancellationToken).ConfigureAwait(false);
            ImmutableInterlocked.Update(ref _cache, list => list.RemoveAll(e => e.Name == name));
            return true;
        }
        catch (BlobStorageException ex) when (ex.IsNotFound || ex.IsPreconditionFailed)
        {
            return false;
        }
    }

    /// <summary>Deletes every snapshot whose <c>expires</c> has passed on the clock; returns how many it deleted.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var deleted = 0;
        string? continuation = null;
        do
        {
            var page = await _store.ListAsync(Prefix, continuation, 500, cancellationToken).ConfigureAwait(false);
            foreach (var blob in page.Items)
            {
                BlobProperties properties;
                try
                {
                    properties = await _store.GetPropertiesAsync(blob.Name, BlobConditions.None, cancellationToken).ConfigureAwait(false);
                }
                catch (BlobStorageException ex) when (ex.IsNotFound)
                {
                    continue;
                }

                if (properties.Metadata.TryGetValue("expires", out var text)
                    && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                    && now >= DateTimeOffset.FromUnixTimeSeconds(seconds))
                {
                    try
                    {
                        // If-Match: a snapshot created again under the name since the listing is not touched.
                        await _store.DeleteAsync(blob.Name, BlobConditions.IfMatchETag(properties.ETag), cancellationToken).ConfigureAwait(false);
                        deleted++;
                    }
                    catch (BlobStorageException ex) when (ex.IsNotFound || ex.IsPreconditionFailed)
                    {
                        // Another node swept it, or it changed.
                    }
                }
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);

        if (deleted > 0)
        {
            ImmutableInterlocked.Update(ref _cache, _ => []);
        }

        return deleted;
    }

    private SnapshotContent? Cached(string name) => _cache.FirstOrDefault(e => e.Name == name).Content;

    private static SnapshotContent Decode(string name, ReadOnlySpan<byte> content, string etag)
    {
        SnapshotInfo? info = null;
        var items = new List<ListItem>();
        while (!content.IsEmpty)
        {
            var end = content.IndexOf((byte)'\n');
            var line = end < 0 ? content : content[..end];
            content = end < 0 ? [] : content[(end + 1)..];
            if (line.IsEmpty)
            {
                continue;
            }

            if (info is null)
            {
                info = JsonSerializer.Deserialize(line, ApiJson.Context.SnapshotInfo);
            }
            else
            {
                items.Add(JsonSerializer.Deserialize(line, ApiJson.Context.ListItem) ?? throw new InvalidDataException($"Snapshot blob {BlobName(name)} has an empty item."));
            }
        }

        return info is null
            ? throw new InvalidDataException($"Snapshot blob {BlobName(name)} has no metadata line.")
            : new SnapshotContent(info with { ETag = etag }, items);
    }
}
