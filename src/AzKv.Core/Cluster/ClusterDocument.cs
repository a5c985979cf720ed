using System.Text.Json;
using System.Text.Json.Serialization;
using AzKv.Partitions;
using AzKv.Storage;

namespace AzKv.Cluster;

/// <summary><c>cluster.json</c>: the region's identity, written once (create-only) and read at every start.</summary>
internal sealed record ClusterDocument
{
    public int Version { get; init; } = 1;

    public required string Region { get; init; }

    public required int PartitionCount { get; init; }

    public DateTimeOffset Created { get; init; }

    /// <summary>
    /// A random id given to the region's storage when cluster.json is created: storage that is
    /// wiped and created again gets a new one. Documents written before it existed have none; their
    /// creation time stands in (it changes too when the storage is created again).
    /// </summary>
    public string? Incarnation { get; init; }

    /// <summary>
    /// What identifies this storage for as long as it exists: the incarnation, or for documents
    /// without one, the creation time. Watch cursors carry it (with the region).
    /// </summary>
    [JsonIgnore]
    public string StorageIdentity => Incarnation ?? "created:" + Created.ToString("O", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Conflict policy per key prefix (<c>prefix=policy;…</c>); null or empty: every key LWW.</summary>
    public string? ConflictPolicies { get; init; }

    /// <summary>The parsed policies (a document that does not parse was refused when it was written).</summary>
    public AzKv.Versioning.ConflictPolicies Policies =>
        AzKv.Versioning.ConflictPolicies.TryParse(ConflictPolicies, out var policies, out _) ? policies : AzKv.Versioning.ConflictPolicies.Default;

    /// <summary>
    /// Reads cluster.json, creating it from the settings when the container is new. The partition
    /// count then comes from storage; a region mismatch is a startup error (wrong container).
    /// </summary>
    public static async Task<ClusterDocument> LoadOrCreateAsync(
        IBlobStore store, string region, int partitionCount, string? conflictPolicies, TimeProvider time, CancellationToken cancellationToken)
    {
        var wanted = string.IsNullOrWhiteSpace(conflictPolicies) ? null : AzKv.Versioning.ConflictPolicies.TryParse(conflictPolicies, out var parsed, out _) ? parsed.ToString() : null;
        await store.CreateContainerIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                var download = await store.DownloadAsync(StorageLayout.ClusterBlob, BlobRange.All, default, cancellationToken).ConfigureAwait(false);
                var existing = JsonSerializer.Deserialize(download.Content.Span, ClusterJsonContext.Default.ClusterDocument)
                    ?? throw new InvalidOperationException("cluster.json is empty.");
                if (!string.Equals(existing.Region, region, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException(
                        $"Container '{store.ContainerName}' belongs to region '{existing.Region}', but AzKv__Region is '{region}'. " +
                        "Each region needs its own container (AzKv__Storage__Container) or account.");
                }

                if (wanted is null || string.Equals(existing.Policies.ToString(), wanted, StringComparison.Ordinal))
                {
                    return existing;
                }

                // The setting changes the region's conflict policies: compare-and-swap the document.
                var updated = existing with { ConflictPolicies = wanted };
                try
                {
                    await store.PutBlockBlobAsync(
                        StorageLayout.ClusterBlob,
                        JsonSerializer.SerializeToUtf8Bytes(updated, ClusterJsonContext.Default.ClusterDocument),
                        new BlobWriteOptions { ContentType = "application/json", Conditions = BlobConditions.IfMatchETag(download.Properties.ETag) },
                        cancellationToken).ConfigureAwait(false);
                    return updated;
                }
                catch (BlobStorageException conflict) when (conflict.IsPreconditionFailed)
                {
                    continue; // changed meanwhile: read it again
                }
            }
            catch (BlobStorageException ex) when (ex.IsNotFound && !ex.IsContainerNotFound)
            {
                var created = new ClusterDocument
                {
                    Region = region,
                    PartitionCount = partitionCount,
                    Created = time.GetUtcNow(),
                    Incarnation = Guid.NewGuid().ToString("N"),
                    ConflictPolicies = wanted,
                };
                try
                {
                    await store.PutBlockBlobAsync(
                        StorageLayout.ClusterBlob,
                        JsonSerializer.SerializeToUtf8Bytes(created, ClusterJsonContext.Default.ClusterDocument),
                        new BlobWriteOptions { ContentType = "application/json", Conditions = BlobConditions.IfNotExists },
                        cancellationToken).ConfigureAwait(false);
                    return created;
                }
                catch (BlobStorageException conflict) when (conflict.IsAlreadyExists)
                {
                    // Another node created it first: read theirs.
                }
            }
            catch (JsonException ex)
            {
                throw new InvalidOperationException($"cluster.json in container '{store.ContainerName}' is not valid: {ex.Message}", ex);
            }
        }

        throw new InvalidOperationException("cluster.json could not be read or created.");
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(ClusterDocument))]
internal sealed partial class ClusterJsonContext : JsonSerializerContext;
