using System.Text.Json;
using AzKv.Storage;

namespace AzKv.Partitions;

/// <summary>Reads and compare-and-swaps partition manifests.</summary>
internal sealed class ManifestStore
{
    private readonly IBlobStore _store;

    public ManifestStore(IBlobStore store)
    {
        _store = store;
    }

    /// <summary>Reads the manifest; null when the partition has none yet.</summary>
    public async Task<VersionedManifest?> ReadAsync(int partition, CancellationToken cancellationToken)
    {
        BlobDownload download;
        try
        {
            download = await _store.DownloadAsync(StorageLayout.Manifest(partition), BlobRange.All, default, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStorageException ex) when (ex.IsNotFound && !ex.IsContainerNotFound)
        {
            return null;
        }

        PartitionManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(download.Content.Span, ManifestJsonContext.Default.PartitionManifest);
        }
        catch (JsonException ex)
        {
            throw new PartitionStorageException($"The manifest of partition {partition} is not valid JSON: {ex.Message}", ex);
        }

        if (manifest is null || manifest.Partition != partition || manifest.Segments is null)
        {
            throw new PartitionStorageException($"The manifest of partition {partition} is malformed (missing fields or wrong partition number).");
        }

        return new VersionedManifest(manifest, download.Properties.ETag);
    }

    /// <summary>Creates the manifest only if there is none; null when another writer created one first.</summary>
    public Task<VersionedManifest?> TryCreateAsync(PartitionManifest manifest, CancellationToken cancellationToken) =>
        TryWriteAsync(manifest, BlobConditions.IfNotExists, cancellationToken);

    /// <summary>Replaces the manifest if its ETag is still <paramref name="etag"/>; null when it changed.</summary>
    public Task<VersionedManifest?> TryReplaceAsync(PartitionManifest manifest, string etag, CancellationToken cancellationToken) =>
        TryWriteAsync(manifest, BlobConditions.IfMatchETag(etag), cancellationToken);

    private async Task<VersionedManifest?> TryWriteAsync(PartitionManifest manifest, BlobConditions conditions, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(manifest, ManifestJsonContext.Default.PartitionManifest);
        try
        {
            var result = await _store.PutBlockBlobAsync(
                StorageLayout.Manifest(manifest.Partition),
                bytes,
                new BlobWriteOptions { ContentType = "application/json", Conditions = conditions },
                cancellationToken).ConfigureAwait(false);
            return new VersionedManifest(manifest, result.ETag);
        }
        catch (BlobStorageException ex) when (ex.IsPreconditionFailed)
        {
            return null;
        }
    }
}
