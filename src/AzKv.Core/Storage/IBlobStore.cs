namespace AzKv.Storage;

/// <summary>
/// The blob operations AzKv needs from one storage container: block blobs for manifests,
/// checkpoints and membership, append blobs for write-ahead-log segments, and leases for
/// fencing. This is the only storage seam of the engine; it has two implementations that
/// must behave the same (the Azure Blob REST client and the in-memory test store), held
/// together by one contract test suite.
/// </summary>
/// <remarks>
/// Every mutation takes conditions. Failures surface as <see cref="BlobStorageException"/>,
/// whose named predicates (<see cref="BlobStorageException.IsNotFound"/>,
/// <see cref="BlobStorageException.IsConditionNotMet"/>, ...) are the only way callers
/// should classify them. ETags are opaque strings, compared with ordinal equality, exactly
/// as the service returns them (including the quotes).
/// </remarks>
public interface IBlobStore
{
    /// <summary>The container every blob name is relative to.</summary>
    string ContainerName { get; }

    /// <summary>Creates the container; returns false when it already existed.</summary>
    Task<bool> CreateContainerIfNotExistsAsync(CancellationToken cancellationToken);

    /// <summary>Creates or replaces a block blob with <paramref name="content"/> in one request.</summary>
    Task<BlobWriteResult> PutBlockBlobAsync(
        string name, ReadOnlyMemory<byte> content, BlobWriteOptions options, CancellationToken cancellationToken);

    /// <summary>
    /// Reads a blob, whole or a byte range. A range that starts at or past the end fails with
    /// <see cref="BlobStorageException.IsInvalidRange"/>; a range that runs past the end is cut
    /// at the end.
    /// </summary>
    Task<BlobDownload> DownloadAsync(
        string name, BlobRange range, BlobConditions conditions, CancellationToken cancellationToken);

    /// <summary>Reads a blob's properties and metadata without its content.</summary>
    Task<BlobProperties> GetPropertiesAsync(string name, BlobConditions conditions, CancellationToken cancellationToken);

    /// <summary>Replaces a blob's metadata. Names must be C# identifiers; values ASCII.</summary>
    Task<BlobWriteResult> SetMetadataAsync(
        string name, IReadOnlyDictionary<string, string> metadata, BlobConditions conditions, CancellationToken cancellationToken);

    /// <summary>Deletes a blob. A leased blob needs its lease id in <paramref name="conditions"/>.</summary>
    Task DeleteAsync(string name, BlobConditions conditions, CancellationToken cancellationToken);

    /// <summary>
    /// Lists blobs whose names start with <paramref name="prefix"/>, in name order, one page at
    /// a time. Pass the returned <see cref="BlobListPage.ContinuationToken"/> to get the next page;
    /// it is null on the last page.
    /// </summary>
    Task<BlobListPage> ListAsync(
        string prefix, string? continuationToken, int? pageSizeHint, CancellationToken cancellationToken);

    /// <summary>Creates an empty append blob (or replaces a blob, when the conditions allow it).</summary>
    Task<BlobWriteResult> CreateAppendBlobAsync(string name, BlobWriteOptions options, CancellationToken cancellationToken);

    /// <summary>
    /// Appends one block (at most <see cref="BlobLimits.MaxAppendBlockBytes"/> bytes) to an
    /// append blob. With <see cref="AppendConditions.AppendPosition"/> set the append only happens
    /// if the blob's length equals it; with a lease id only if that lease is held.
    /// </summary>
    Task<AppendResult> AppendBlockAsync(
        string name, ReadOnlyMemory<byte> block, AppendConditions conditions, CancellationToken cancellationToken);

    /// <summary>Seals an append blob: no further append succeeds. Sealing a sealed blob succeeds.</summary>
    Task<BlobWriteResult> SealAsync(string name, BlobConditions conditions, CancellationToken cancellationToken);

    /// <summary>
    /// Acquires a lease for <paramref name="duration"/> (15–60 s, or <see cref="Timeout.InfiniteTimeSpan"/>).
    /// Acquiring again with the id of the active lease renews it.
    /// </summary>
    Task<LeaseResult> AcquireLeaseAsync(
        string name, TimeSpan duration, string? proposedLeaseId, BlobConditions conditions, CancellationToken cancellationToken);

    /// <summary>Renews an active or expired-but-not-taken lease, restarting its duration.</summary>
    Task<LeaseResult> RenewLeaseAsync(string name, string leaseId, CancellationToken cancellationToken);

    /// <summary>Changes the id of an active lease.</summary>
    Task<LeaseResult> ChangeLeaseAsync(string name, string leaseId, string proposedLeaseId, CancellationToken cancellationToken);

    /// <summary>Releases a lease so another client can acquire it at once.</summary>
    Task ReleaseLeaseAsync(string name, string leaseId, CancellationToken cancellationToken);

    /// <summary>
    /// Breaks the lease on a blob. Returns the time until the lease is broken (zero when it is
    /// broken at once). <paramref name="breakPeriod"/> null means "the rest of the lease duration".
    /// </summary>
    Task<TimeSpan> BreakLeaseAsync(string name, TimeSpan? breakPeriod, CancellationToken cancellationToken);
}
