using System.Globalization;
using AzKv.Storage;
using AzKv.Testing;

namespace AzKv.Core.Tests.Simulation;

/// <summary>
/// One node process's view of the shared storage account: every request it makes waits in the
/// simulation's queue until the scheduler lets it reach the store (possibly much later, possibly
/// after its caller gave up, possibly never). So the scheduler, not the thread pool, decides the
/// order in which requests of different nodes land.
/// </summary>
internal sealed class SimulatedBlobStore : IBlobStore
{
    private readonly IBlobStore _inner;
    private readonly SimulationWorld _world;

    public SimulatedBlobStore(IBlobStore inner, SimulationWorld world, string node, int incarnation)
    {
        _inner = inner;
        _world = world;
        Node = node;
        Incarnation = incarnation;
    }

    public string Node { get; }

    public int Incarnation { get; }

    /// <summary>The process is dead: it sends nothing more (its requests never complete).</summary>
    public bool IsDead { get; set; }

    public string ContainerName => _inner.ContainerName;

    public Task<bool> CreateContainerIfNotExistsAsync(CancellationToken cancellationToken) =>
        Gate(BlobOperation.CreateContainer, "", "", () => _inner.CreateContainerIfNotExistsAsync(CancellationToken.None), cancellationToken);

    public Task<BlobWriteResult> PutBlockBlobAsync(string name, ReadOnlyMemory<byte> content, BlobWriteOptions options, CancellationToken cancellationToken)
    {
        var copy = content.ToArray();
        return Gate(BlobOperation.PutBlockBlob, name, Describe(options.Conditions) + " " + copy.Length.ToString(CultureInfo.InvariantCulture),
            () => _inner.PutBlockBlobAsync(name, copy, options, CancellationToken.None), cancellationToken);
    }

    public Task<BlobDownload> DownloadAsync(string name, BlobRange range, BlobConditions conditions, CancellationToken cancellationToken) =>
        Gate(BlobOperation.Download, name, $"{range.Offset}+{range.Length} {Describe(conditions)}",
            () => _inner.DownloadAsync(name, range, conditions, CancellationToken.None), cancellationToken);

    public Task<BlobProperties> GetPropertiesAsync(string name, BlobConditions conditions, CancellationToken cancellationToken) =>
        Gate(BlobOperation.GetProperties, name, Describe(conditions), () => _inner.GetPropertiesAsync(name, conditions, CancellationToken.None), cancellationToken);

    public Task<BlobWriteResult> SetMetadataAsync(string name, IReadOnlyDictionary<string, string> metadata, BlobConditions conditions, CancellationToken cancellationToken) =>
        Gate(BlobOperation.SetMetadata, name, Describe(conditions), () => _inner.SetMetadataAsync(name, metadata, conditions, CancellationToken.None), cancellationToken);

    public Task DeleteAsync(string name, BlobConditions conditions, CancellationToken cancellationToken) =>
        Gate(BlobOperation.Delete, name, Describe(conditions), async () =>
        {
            await _inner.DeleteAsync(name, conditions, CancellationToken.None).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    public Task<BlobListPage> ListAsync(string prefix, string? continuationToken, int? pageSizeHint, CancellationToken cancellationToken) =>
        Gate(BlobOperation.List, prefix, continuationToken ?? "", () => _inner.ListAsync(prefix, continuationToken, pageSizeHint, CancellationToken.None), cancellationToken);

    public Task<BlobWriteResult> CreateAppendBlobAsync(string name, BlobWriteOptions options, CancellationToken cancellationToken) =>
        Gate(BlobOperation.CreateAppendBlob, name, Describe(options.Conditions), () => _inner.CreateAppendBlobAsync(name, options, CancellationToken.None), cancellationToken);

    public Task<AppendResult> AppendBlockAsync(string name, ReadOnlyMemory<byte> block, AppendConditions conditions, CancellationToken cancellationToken)
    {
        var copy = block.ToArray();
        var detail = $"at {conditions.AppendPosition} {copy.Length}B lease:{conditions.LeaseId is not null}";
        return Gate(BlobOperation.AppendBlock, name, detail, () => _inner.AppendBlockAsync(name, copy, conditions, CancellationToken.None), cancellationToken,
            torn: length => _inner.AppendBlockAsync(name, copy.AsMemory(0, length), conditions, CancellationToken.None),
            blockLength: copy.Length);
    }

    public Task<BlobWriteResult> SealAsync(string name, BlobConditions conditions, CancellationToken cancellationToken) =>
        Gate(BlobOperation.Seal, name, Describe(conditions), () => _inner.SealAsync(name, conditions, CancellationToken.None), cancellationToken);

    public Task<LeaseResult> AcquireLeaseAsync(string name, TimeSpan duration, string? proposedLeaseId, BlobConditions conditions, CancellationToken cancellationToken) =>
        Gate(BlobOperation.AcquireLease, name, duration.TotalSeconds.ToString(CultureInfo.InvariantCulture),
            () => _inner.AcquireLeaseAsync(name, duration, proposedLeaseId, conditions, CancellationToken.None), cancellationToken);

    public Task<LeaseResult> RenewLeaseAsync(string name, string leaseId, CancellationToken cancellationToken) =>
        Gate(BlobOperation.RenewLease, name, "", () => _inner.RenewLeaseAsync(name, leaseId, CancellationToken.None), cancellationToken);

    public Task<LeaseResult> ChangeLeaseAsync(string name, string leaseId, string proposedLeaseId, CancellationToken cancellationToken) =>
        Gate(BlobOperation.ChangeLease, name, "", () => _inner.ChangeLeaseAsync(name, leaseId, proposedLeaseId, CancellationToken.None), cancellationToken);

    public Task ReleaseLeaseAsync(string name, string leaseId, CancellationToken cancellationToken) =>
        Gate(BlobOperation.ReleaseLease, name, "", async () =>
        {
            await _inner.ReleaseLeaseAsync(name, leaseId, CancellationToken.None).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    public Task<TimeSpan> BreakLeaseAsync(string name, TimeSpan? breakPeriod, CancellationToken cancellationToken) =>
        Gate(BlobOperation.BreakLease, name, breakPeriod?.TotalSeconds.ToString(CultureInfo.InvariantCulture) ?? "rest",
            () => _inner.BreakLeaseAsync(name, breakPeriod, CancellationToken.None), cancellationToken);

    // Lease ids are random (Guid.NewGuid in the engine): they are left out of descriptions, which
    // order the queue, so that a replay from the same seed makes the same choices.
    private static string Describe(BlobConditions conditions) =>
        $"{conditions.IfMatch}|{conditions.IfNoneMatch}|lease:{conditions.LeaseId is not null}";

    private Task<T> Gate<T>(
        BlobOperation operation,
        string name,
        string detail,
        Func<Task<T>> run,
        CancellationToken cancellationToken,
        Func<int, Task<AppendResult>>? torn = null,
        int blockLength = 0)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        // Continuations run on the thread that completes the request: the scheduler's.
        var completion = new TaskCompletionSource<T>();
        if (IsDead)
        {
            return completion.Task; // a dead process: nothing is sent, nothing comes back
        }

        var request = new SimulatedRequest(this, operation, name, detail, blockLength);
        request.Execute = async action =>
        {
            try
            {
                _world.CurrentFault = action;
                T result = await run().ConfigureAwait(false);
                _world.CurrentFault = BlobFaultAction.None;
                completion.TrySetResult(result);
            }
            catch (Exception ex) when (ex is BlobStorageException or ArgumentException or InvalidOperationException)
            {
                _world.CurrentFault = BlobFaultAction.None;
                completion.TrySetException(ex);
            }
        };
        if (torn is not null)
        {
            request.ExecuteTorn = async length =>
            {
                try
                {
                    // A prefix of the block lands; the caller hears nothing.
                    _world.CurrentFault = BlobFaultAction.LoseResponse;
                    await torn(length).ConfigureAwait(false);
                }
                catch (BlobStorageException ex)
                {
                    completion.TrySetException(ex);
                }
                finally
                {
                    _world.CurrentFault = BlobFaultAction.None;
                }
            };
        }

        if (cancellationToken.CanBeCanceled)
        {
            request.Registration = cancellationToken.Register(() =>
            {
                // The caller stops waiting; the request may still be on the wire and land later.
                request.CallerGone = true;
                completion.TrySetCanceled(cancellationToken);
            });
        }

        _world.Enqueue(request);
        return completion.Task;
    }
}

/// <summary>A request waiting for the scheduler.</summary>
internal sealed class SimulatedRequest
{
    public SimulatedRequest(SimulatedBlobStore origin, BlobOperation operation, string name, string detail, int blockLength)
    {
        Origin = origin;
        Operation = operation;
        Name = name;
        Detail = detail;
        BlockLength = blockLength;
    }

    public SimulatedBlobStore Origin { get; }

    public BlobOperation Operation { get; }

    public string Name { get; }

    public string Detail { get; }

    public int BlockLength { get; }

    /// <summary>Performs the request with the given fault (BlobFaults applies it in the store).</summary>
    public Func<BlobFaultAction, Task> Execute { get; set; } = _ => Task.CompletedTask;

    /// <summary>Appends: lands only the first n bytes and loses the response.</summary>
    public Func<int, Task>? ExecuteTorn { get; set; }

    public bool CallerGone { get; set; }

    public CancellationTokenRegistration Registration { get; set; }

    /// <summary>The order key of the queue: everything but arrival order (which threads decide).</summary>
    public string SortKey => $"{Origin.Node}#{Origin.Incarnation} {Operation} {Name} {Detail} {CallerGone}";

    public override string ToString() => SortKey;
}
