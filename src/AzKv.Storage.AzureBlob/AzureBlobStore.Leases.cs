using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using AzKv.Storage.AzureBlob.Errors;

namespace AzKv.Storage.AzureBlob;

/// <summary>Lease Blob: acquire, renew, change, release, break (<see cref="BlobLeaseClient"/>).</summary>
internal sealed partial class AzureBlobStore
{
    /// <remarks>
    /// When <paramref name="proposedLeaseId"/> is null a new GUID is proposed here, so a retried acquire
    /// whose first attempt landed acquires "again" with the same id, which the service treats as a
    /// renew, instead of failing with 409 LeaseAlreadyPresent. <see cref="BlobConditions.LeaseId"/> does
    /// not apply to acquire and is ignored.
    /// </remarks>
    public async Task<LeaseResult> AcquireLeaseAsync(
        string name, TimeSpan duration, string? proposedLeaseId, BlobConditions conditions, CancellationToken cancellationToken)
    {
        var context = new OperationContext("Lease Blob (acquire)", ContainerName, name);
        TimeSpan serviceDuration = duration == Timeout.InfiniteTimeSpan
            ? BlobLeaseClient.InfiniteLeaseDuration
            : RequireWholeSeconds(duration, "the lease duration", context);
        string proposed = proposedLeaseId is null ? Guid.NewGuid().ToString("D") : ValidateLeaseId(proposedLeaseId, context);
        BlobLeaseClient lease = LeaseClient(name, proposed);
        RequestConditions? etagConditions = conditions.IfMatch is null && conditions.IfNoneMatch is null
            ? null
            : new RequestConditions { IfMatch = ToETag(conditions.IfMatch), IfNoneMatch = ToETag(conditions.IfNoneMatch) };
        try
        {
            Response<BlobLease> response = await lease.AcquireAsync(serviceDuration, etagConditions, cancellationToken).ConfigureAwait(false);
            return ToLeaseResult(response.Value);
        }
        catch (Exception ex) when (BlobErrors.TryTranslate(ex, context, cancellationToken, out Exception translated))
        {
            throw translated;
        }
    }

    public async Task<LeaseResult> RenewLeaseAsync(string name, string leaseId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(leaseId);
        var context = new OperationContext("Lease Blob (renew)", ContainerName, name);
        BlobLeaseClient lease = LeaseClient(name, leaseId);
        try
        {
            Response<BlobLease> response = await lease.RenewAsync(conditions: null, cancellationToken).ConfigureAwait(false);
            return ToLeaseResult(response.Value);
        }
        catch (Exception ex) when (BlobErrors.TryTranslate(ex, context, cancellationToken, out Exception translated))
        {
            throw translated;
        }
    }

    public async Task<LeaseResult> ChangeLeaseAsync(string name, string leaseId, string proposedLeaseId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(leaseId);
        ArgumentException.ThrowIfNullOrEmpty(proposedLeaseId);
        var context = new OperationContext("Lease Blob (change)", ContainerName, name);
        ValidateLeaseId(proposedLeaseId, context);
        BlobLeaseClient lease = LeaseClient(name, leaseId);
        try
        {
            Response<BlobLease> response = await lease.ChangeAsync(proposedLeaseId, conditions: null, cancellationToken).ConfigureAwait(false);
            return ToLeaseResult(response.Value);
        }
        catch (Exception ex) when (BlobErrors.TryTranslate(ex, context, cancellationToken, out Exception translated))
        {
            throw translated;
        }
    }

    public async Task ReleaseLeaseAsync(string name, string leaseId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(leaseId);
        var context = new OperationContext("Lease Blob (release)", ContainerName, name);
        BlobLeaseClient lease = LeaseClient(name, leaseId);
        try
        {
            await lease.ReleaseAsync(conditions: null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (BlobErrors.TryTranslate(ex, context, cancellationToken, out Exception translated))
        {
            throw translated;
        }
    }

    public async Task<TimeSpan> BreakLeaseAsync(string name, TimeSpan? breakPeriod, CancellationToken cancellationToken)
    {
        var context = new OperationContext("Lease Blob (break)", ContainerName, name);
        TimeSpan? period = breakPeriod is TimeSpan value ? RequireWholeSeconds(value, "the break period", context) : null;
        BlobLeaseClient lease = LeaseClient(name, leaseId: null);
        try
        {
            Response<BlobLease> response = await lease.BreakAsync(period, conditions: null, cancellationToken).ConfigureAwait(false);
            return TimeSpan.FromSeconds(response.Value.LeaseTime ?? 0);
        }
        catch (Exception ex) when (BlobErrors.TryTranslate(ex, context, cancellationToken, out Exception translated))
        {
            throw translated;
        }
    }

    private BlobLeaseClient LeaseClient(string name, string? leaseId) =>
        _container.GetBlobBaseClient(BlobNames.ValidateBlobName(name)).GetBlobLeaseClient(leaseId);

    private static LeaseResult ToLeaseResult(BlobLease lease) => new(lease.LeaseId, FromETag(lease.ETag));

    /// <summary>
    /// A duration as the whole seconds the service takes. Range rules (15-60 s leases, 0-60 s breaks)
    /// are left to the service, which checks them in its own order relative to the lease state; only
    /// what no request could carry fails here, as the service's 400 InvalidHeaderValue.
    /// </summary>
    private static TimeSpan RequireWholeSeconds(TimeSpan value, string what, OperationContext context)
    {
        if (value.Ticks % TimeSpan.TicksPerSecond != 0 || value < TimeSpan.Zero || value > TimeSpan.FromSeconds(int.MaxValue))
        {
            throw BlobErrors.Synthesized(400, BlobErrorCodes.InvalidHeaderValue, context, $"{what} must be a whole number of seconds.");
        }

        return value;
    }

    /// <summary>
    /// Azure takes proposed lease ids in GUID format only (400 InvalidHeaderValue otherwise);
    /// Azurite takes any string. Checked here so both answer the same.
    /// </summary>
    private static string ValidateLeaseId(string proposedLeaseId, OperationContext context)
    {
        ArgumentException.ThrowIfNullOrEmpty(proposedLeaseId);
        return Guid.TryParse(proposedLeaseId, out _)
            ? proposedLeaseId
            : throw BlobErrors.Synthesized(400, BlobErrorCodes.InvalidHeaderValue, context, "a proposed lease id must be a GUID.");
    }
}
