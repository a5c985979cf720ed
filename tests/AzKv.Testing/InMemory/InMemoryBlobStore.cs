using System.Globalization;
using System.Text;
using AzKv.Storage;

namespace AzKv.Testing;

/// <summary>
/// An <see cref="IBlobStore"/> held in memory, for fast and deterministic simulation tests. It behaves
/// like Azure Blob Storage as Azurite 3.35 emulates it, down to status codes and x-ms-error-code values,
/// and the contract suite runs the same tests against both. Time (lease expiry, break periods,
/// Last-Modified) comes from the <see cref="TimeProvider"/> given, so a <see cref="ManualTimeProvider"/>
/// drives it; <see cref="Faults"/> injects latency, failures and lost responses.
/// </summary>
/// <remarks>
/// One lock guards all state; an append copies only the block (amortised), and every buffer or
/// dictionary returned is a copy the caller owns. Argument errors that a REST client could not even
/// send (null names, negative ranges) throw <see cref="ArgumentException"/> at once; everything the
/// service would answer is a <see cref="BlobStorageException"/> from the returned task. docs/testing.md
/// lists where the behaviour follows Azurite rather than the Azure documentation.
/// </remarks>
public sealed partial class InMemoryBlobStore : IBlobStore
{
    /// <summary>The Content-Type stored when none is given.</summary>
    public const string DefaultContentType = "application/octet-stream";

    /// <summary>The page size of <see cref="ListAsync"/> without a hint, and the largest it honours.</summary>
    public const int MaxListPageSize = 5000;

    private const int MaxBlobNameLength = 1024;

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly Dictionary<string, BlobEntry> _blobs = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _names = new(StringComparer.Ordinal);
    private bool _containerExists;
    private long _lastETag;
    private long _lastLeaseId;
    private int _maxAppendBlocks = BlobLimits.MaxAppendBlocks;

    /// <summary>Creates an empty store; the container does not exist until <see cref="CreateContainerIfNotExistsAsync"/>.</summary>
    /// <param name="containerName">The container name.</param>
    /// <param name="timeProvider">The clock for leases and Last-Modified; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="faults">The fault rules to apply; a new empty <see cref="BlobFaults"/> when null.</param>
    public InMemoryBlobStore(string containerName = "azkv", TimeProvider? timeProvider = null, BlobFaults? faults = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(containerName);
        ContainerName = containerName;
        _time = timeProvider ?? TimeProvider.System;
        Faults = faults ?? new BlobFaults();
    }

    /// <inheritdoc />
    public string ContainerName { get; }

    /// <summary>The clock the store reads.</summary>
    public TimeProvider TimeProvider => _time;

    /// <summary>The faults this store injects into its own requests.</summary>
    public BlobFaults Faults { get; }

    /// <summary>
    /// The committed-block limit of an append blob (default <see cref="BlobLimits.MaxAppendBlocks"/>);
    /// lower it so a test reaches 409 BlockCountExceedsLimit with a few blocks.
    /// </summary>
    public int MaxAppendBlocks
    {
        get
        {
            lock (_lock)
            {
                return _maxAppendBlocks;
            }
        }

        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, BlobLimits.MaxAppendBlocks);
            lock (_lock)
            {
                _maxAppendBlocks = value;
            }
        }
    }

    /// <inheritdoc />
    public Task<bool> CreateContainerIfNotExistsAsync(CancellationToken cancellationToken) =>
        RunAsync(BlobOperation.CreateContainer, null, _ =>
        {
            var created = !_containerExists;
            _containerExists = true;
            return created;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<BlobWriteResult> PutBlockBlobAsync(
        string name, ReadOnlyMemory<byte> content, BlobWriteOptions options, CancellationToken cancellationToken)
    {
        ValidateName(name);
        return RunAsync(BlobOperation.PutBlockBlob, name, now => CreateBlob(name, BlobKind.Block, content.Span, options, now), cancellationToken);
    }

    /// <inheritdoc />
    public Task<BlobWriteResult> CreateAppendBlobAsync(string name, BlobWriteOptions options, CancellationToken cancellationToken)
    {
        ValidateName(name);
        return RunAsync(BlobOperation.CreateAppendBlob, name, now => CreateBlob(name, BlobKind.Append, [], options, now), cancellationToken);
    }

    /// <inheritdoc />
    public Task<BlobDownload> DownloadAsync(
        string name, BlobRange range, BlobConditions conditions, CancellationToken cancellationToken)
    {
        ValidateName(name);
        ArgumentOutOfRangeException.ThrowIfNegative(range.Offset, nameof(range));
        if (range.Length is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(range), range, "A range length must be positive (null means to the end).");
        }

        return RunAsync(BlobOperation.Download, name, now =>
        {
            var entry = GetForRead(name, conditions, now);
            long start = 0;
            var end = entry.Length;
            if (!range.IsAll)
            {
                // Past or at the end: 416, even on an empty blob (IBlobStore's contract; see docs/testing.md).
                if (range.Offset >= entry.Length)
                {
                    throw InMemoryBlobErrors.InvalidRange(entry.Length);
                }

                start = range.Offset;
                end = range.Length is { } length ? Math.Min(entry.Length, start + length) : entry.Length;
            }

            var content = entry.Data.AsSpan((int)start, (int)(end - start)).ToArray();
            return new BlobDownload(ToProperties(name, entry), content, start);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<BlobProperties> GetPropertiesAsync(string name, BlobConditions conditions, CancellationToken cancellationToken)
    {
        ValidateName(name);
        return RunAsync(BlobOperation.GetProperties, name, now => ToProperties(name, GetForRead(name, conditions, now)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<BlobWriteResult> SetMetadataAsync(
        string name, IReadOnlyDictionary<string, string> metadata, BlobConditions conditions, CancellationToken cancellationToken)
    {
        ValidateName(name);
        ArgumentNullException.ThrowIfNull(metadata);
        return RunAsync(BlobOperation.SetMetadata, name, now =>
        {
            var copy = CopyMetadata(metadata);
            EnsureContainer();
            var entry = Find(name, now);
            CheckWriteConditions(entry, conditions, isCreate: false);
            entry = entry ?? throw InMemoryBlobErrors.BlobNotFound();
            CheckWriteLease(entry, conditions.LeaseId);
            entry.Lease.ClearIfInactive();
            entry.Metadata = copy;
            return Touch(entry, now);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteAsync(string name, BlobConditions conditions, CancellationToken cancellationToken)
    {
        ValidateName(name);
        return RunAsync(BlobOperation.Delete, name, now =>
        {
            EnsureContainer();
            var entry = Find(name, now);
            CheckWriteConditions(entry, conditions, isCreate: false);
            entry = entry ?? throw InMemoryBlobErrors.BlobNotFound();
            CheckWriteLease(entry, conditions.LeaseId);
            _blobs.Remove(name);
            _names.Remove(name);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<BlobListPage> ListAsync(
        string prefix, string? continuationToken, int? pageSizeHint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return RunAsync(BlobOperation.List, prefix, now =>
        {
            if (pageSizeHint is < 1)
            {
                throw InMemoryBlobErrors.OutOfRange("maxresults must be at least 1");
            }

            var pageSize = Math.Min(pageSizeHint ?? MaxListPageSize, MaxListPageSize);
            var after = DecodeContinuationToken(continuationToken);
            EnsureContainer();

            var items = new List<BlobItem>();
            var more = false;
            var from = after is not null && string.CompareOrdinal(after, prefix) > 0 ? after : prefix;
            if (_names.Count > 0 && string.CompareOrdinal(from, _names.Max) <= 0)
            {
                foreach (var name in _names.GetViewBetween(from, _names.Max!))
                {
                    if (!name.StartsWith(prefix, StringComparison.Ordinal))
                    {
                        break;
                    }

                    if (after is not null && string.CompareOrdinal(name, after) <= 0)
                    {
                        continue;
                    }

                    if (items.Count == pageSize)
                    {
                        more = true;
                        break;
                    }

                    var entry = _blobs[name];
                    entry.Lease.Refresh(now);
                    items.Add(new BlobItem(name, entry.ETag, entry.Length, entry.Kind, entry.LastModified, entry.Lease.State, entry.IsSealed));
                }
            }

            return new BlobListPage(items, more ? EncodeContinuationToken(items[^1].Name) : null);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<AppendResult> AppendBlockAsync(
        string name, ReadOnlyMemory<byte> block, AppendConditions conditions, CancellationToken cancellationToken)
    {
        ValidateName(name);
        return RunAsync(BlobOperation.AppendBlock, name, now =>
        {
            // The order of the checks is Azurite's (AppendBlobHandler.appendBlock, then
            // LokiBlobMetadataStore.appendBlock), so a request breaking several rules gets the same error.
            if (block.Length > BlobLimits.MaxAppendBlockBytes)
            {
                throw InMemoryBlobErrors.RequestBodyTooLarge();
            }

            if (block.IsEmpty)
            {
                throw InMemoryBlobErrors.InvalidHeaderValue("Content-Length: 0");
            }

            if (conditions.AppendPosition is < 0)
            {
                throw InMemoryBlobErrors.InvalidHeaderValue("x-ms-blob-condition-appendpos");
            }

            EnsureContainer();
            var entry = Find(name, now) ?? throw InMemoryBlobErrors.BlobNotFound();
            if (entry.Kind != BlobKind.Append)
            {
                throw InMemoryBlobErrors.InvalidBlobType();
            }

            if (entry.BlockCount >= _maxAppendBlocks)
            {
                throw InMemoryBlobErrors.BlockCountExceedsLimit(_maxAppendBlocks);
            }

            CheckWriteConditions(entry, new BlobConditions { IfMatch = conditions.IfMatch }, isCreate: false);
            CheckWriteLease(entry, conditions.LeaseId);
            if (entry.IsSealed)
            {
                throw InMemoryBlobErrors.BlobIsSealed();
            }

            if (conditions.AppendPosition is { } position && position != entry.Length)
            {
                throw InMemoryBlobErrors.AppendPositionConditionNotMet();
            }

            entry.Lease.ClearIfInactive();
            var offset = entry.Length;
            entry.Append(block.Span);
            entry.BlockCount++;
            var written = Touch(entry, now);
            return new AppendResult(written.ETag, offset, entry.BlockCount);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<BlobWriteResult> SealAsync(string name, BlobConditions conditions, CancellationToken cancellationToken)
    {
        ValidateName(name);
        return RunAsync(BlobOperation.Seal, name, now =>
        {
            EnsureContainer();
            var entry = Find(name, now);
            CheckWriteConditions(entry, conditions, isCreate: false);
            entry = entry ?? throw InMemoryBlobErrors.BlobNotFound();
            if (entry.Kind != BlobKind.Append)
            {
                throw InMemoryBlobErrors.InvalidBlobType();
            }

            CheckWriteLease(entry, conditions.LeaseId);
            entry.Lease.ClearIfInactive();
            entry.IsSealed = true;

            // Azurite gives every seal, even of a sealed blob, a new ETag and Last-Modified.
            return Touch(entry, now);
        }, cancellationToken);
    }

    /// <summary>
    /// Runs one request: counts it and applies <see cref="Faults"/> (latency, then failure), performs
    /// <paramref name="body"/> under the lock at the current time, then maybe loses the response.
    /// </summary>
    private async Task<T> RunAsync<T>(
        BlobOperation operation, string? blobName, Func<DateTimeOffset, T> body, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var plan = Faults.Decide(operation, blobName);
        if (plan.StoreClockDelay > TimeSpan.Zero)
        {
            await Task.Delay(plan.StoreClockDelay, _time, cancellationToken).ConfigureAwait(false);
        }

        if (plan.RealDelay > TimeSpan.Zero)
        {
            await Task.Delay(plan.RealDelay, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var action = plan.Action;
        if (action.Kind == BlobFaultKind.Fail)
        {
            throw InMemoryBlobErrors.Injected(action, operation, blobName);
        }

        T result;
        try
        {
            lock (_lock)
            {
                result = body(_time.GetUtcNow());
            }
        }
        catch (BlobStorageException) when (action.Kind == BlobFaultKind.LoseResponse)
        {
            throw InMemoryBlobErrors.ResponseLost(operation, blobName);
        }

        if (action.Kind == BlobFaultKind.LoseResponse)
        {
            throw InMemoryBlobErrors.ResponseLost(operation, blobName);
        }

        return result;
    }

    private BlobWriteResult CreateBlob(string name, BlobKind kind, ReadOnlySpan<byte> content, BlobWriteOptions options, DateTimeOffset now)
    {
        var metadata = options.Metadata is null ? NewMetadata() : CopyMetadata(options.Metadata);
        EnsureContainer();
        var existing = Find(name, now);
        CheckWriteConditions(existing, options.Conditions, isCreate: true);
        var lease = new BlobLease();
        if (existing is not null)
        {
            // Put Blob over a leased blob needs the lease id and keeps the lease (Azurite
            // LokiBlobMetadataStore.createBlob: "Keep original blob lease").
            CheckWriteLease(existing, options.Conditions.LeaseId);
            lease = existing.Lease;
            lease.ClearIfInactive();
        }

        var entry = new BlobEntry(kind, content.ToArray(), lease)
        {
            ContentType = string.IsNullOrEmpty(options.ContentType) ? DefaultContentType : options.ContentType,
            Metadata = metadata,
        };
        _blobs[name] = entry;
        _names.Add(name);
        return Touch(entry, now);
    }

    private BlobEntry GetForRead(string name, BlobConditions conditions, DateTimeOffset now)
    {
        EnsureContainer();
        var entry = Find(name, now);
        CheckReadConditions(entry, conditions);
        entry = entry ?? throw InMemoryBlobErrors.BlobNotFound();
        CheckReadLease(entry, conditions.LeaseId);
        return entry;
    }

    private void EnsureContainer()
    {
        if (!_containerExists)
        {
            throw InMemoryBlobErrors.ContainerNotFound();
        }
    }

    /// <summary>The blob, with its lease state brought up to <paramref name="now"/>, or null.</summary>
    private BlobEntry? Find(string name, DateTimeOffset now)
    {
        if (!_blobs.TryGetValue(name, out var entry))
        {
            return null;
        }

        entry.Lease.Refresh(now);
        return entry;
    }

    /// <summary>Records a change: a fresh ETag and Last-Modified.</summary>
    private BlobWriteResult Touch(BlobEntry entry, DateTimeOffset now)
    {
        // Azure-style opaque ETag ("0x8DE..." with 15 hex digits), unique within this store. A counter
        // rather than a clock or random value keeps simulation runs reproducible.
        _lastETag++;
        entry.ETag = string.Create(CultureInfo.InvariantCulture, $"\"0x{0x8DE000000000000 + _lastETag:X}\"");

        // HTTP dates carry whole seconds, so that is all a REST client ever sees.
        entry.LastModified = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        return new BlobWriteResult(entry.ETag, entry.LastModified);
    }

    private static BlobProperties ToProperties(string name, BlobEntry entry) => new()
    {
        Name = name,
        ETag = entry.ETag,
        LastModified = entry.LastModified,
        ContentLength = entry.Length,
        ContentType = entry.ContentType,
        Kind = entry.Kind,
        Metadata = new Dictionary<string, string>(entry.Metadata, StringComparer.OrdinalIgnoreCase),
        LeaseState = entry.Lease.State,
        CommittedBlockCount = entry.Kind == BlobKind.Append ? entry.BlockCount : null,
        IsSealed = entry.IsSealed,
    };

    private static void ValidateName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(name.Length, MaxBlobNameLength, nameof(name));
    }

    private static string EncodeContinuationToken(string lastName) =>
        "1!" + Convert.ToBase64String(Encoding.UTF8.GetBytes(lastName));

    private static string? DecodeContinuationToken(string? token)
    {
        if (token is null)
        {
            return null;
        }

        try
        {
            return token.StartsWith("1!", StringComparison.Ordinal)
                ? Encoding.UTF8.GetString(Convert.FromBase64String(token[2..]))
                : throw InMemoryBlobErrors.InvalidContinuationToken();
        }
        catch (FormatException)
        {
            throw InMemoryBlobErrors.InvalidContinuationToken();
        }
    }
}
