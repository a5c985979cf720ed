using System.Globalization;
using Azure;
using Azure.Core;
using AzKv.Storage.AzureBlob.Protocol;

namespace AzKv.Storage.AzureBlob;

/// <summary>Lease Blob: acquire, renew, change, release, break (<c>PUT ?comp=lease</c>).</summary>
internal sealed partial class AzureBlobStore
{
    /// <remarks>
    /// When <paramref name="proposedLeaseId"/> is null the client proposes a new GUID itself, so a
    /// retried acquire whose first attempt landed acquires "again" with the same id, which the
    /// service treats as a renew, instead of failing with 409 LeaseAlreadyPresent.
    /// <see cref="BlobConditions.LeaseId"/> does not apply to acquire and is ignored.
    /// </remarks>
    public async Task<LeaseResult> AcquireLeaseAsync(
        string name, TimeSpan duration, string? proposedLeaseId, BlobConditions conditions, CancellationToken cancellationToken)
    {
        var context = new OperationContext("Lease Blob (acquire)", ContainerName, name);
        string durationText = duration == Timeout.InfiniteTimeSpan
            ? "-1"
            : ToWholeSeconds(duration, BlobHeaders.LeaseDuration, context);
        string proposed = proposedLeaseId is null ? Guid.NewGuid().ToString("D") : ValidateLeaseId(proposedLeaseId, context);
        using HttpMessage message = CreateLeaseMessage(name, "acquire");
        Request request = message.Request;
        request.Headers.SetValue(BlobHeaders.LeaseDuration, durationText);
        request.Headers.SetValue(BlobHeaders.ProposedLeaseId, proposed);
        ApplyConditions(request, conditions with { LeaseId = null });

        Response response = await SendAsync(message, context, cancellationToken).ConfigureAwait(false);
        if (response.Status != 201)
        {
            throw await BlobErrors.FromResponseAsync(response, context, cancellationToken).ConfigureAwait(false);
        }

        return ReadLeaseResult(response, context);
    }

    public async Task<LeaseResult> RenewLeaseAsync(string name, string leaseId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(leaseId);
        var context = new OperationContext("Lease Blob (renew)", ContainerName, name);
        using HttpMessage message = CreateLeaseMessage(name, "renew");
        message.Request.Headers.SetValue(BlobHeaders.LeaseId, leaseId);

        Response response = await SendAsync(message, context, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw await BlobErrors.FromResponseAsync(response, context, cancellationToken).ConfigureAwait(false);
        }

        return ReadLeaseResult(response, context);
    }

    public async Task<LeaseResult> ChangeLeaseAsync(string name, string leaseId, string proposedLeaseId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(leaseId);
        ArgumentException.ThrowIfNullOrEmpty(proposedLeaseId);
        var context = new OperationContext("Lease Blob (change)", ContainerName, name);
        ValidateLeaseId(proposedLeaseId, context);
        using HttpMessage message = CreateLeaseMessage(name, "change");
        message.Request.Headers.SetValue(BlobHeaders.LeaseId, leaseId);
        message.Request.Headers.SetValue(BlobHeaders.ProposedLeaseId, proposedLeaseId);

        Response response = await SendAsync(message, context, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw await BlobErrors.FromResponseAsync(response, context, cancellationToken).ConfigureAwait(false);
        }

        return ReadLeaseResult(response, context);
    }

    public async Task ReleaseLeaseAsync(string name, string leaseId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(leaseId);
        var context = new OperationContext("Lease Blob (release)", ContainerName, name);
        using HttpMessage message = CreateLeaseMessage(name, "release");
        message.Request.Headers.SetValue(BlobHeaders.LeaseId, leaseId);

        Response response = await SendAsync(message, context, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw await BlobErrors.FromResponseAsync(response, context, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<TimeSpan> BreakLeaseAsync(string name, TimeSpan? breakPeriod, CancellationToken cancellationToken)
    {
        var context = new OperationContext("Lease Blob (break)", ContainerName, name);
        string? periodText = breakPeriod is TimeSpan period ? ToWholeSeconds(period, BlobHeaders.LeaseBreakPeriod, context) : null;
        using HttpMessage message = CreateLeaseMessage(name, "break");
        if (periodText is not null)
        {
            message.Request.Headers.SetValue(BlobHeaders.LeaseBreakPeriod, periodText);
        }

        Response response = await SendAsync(message, context, cancellationToken).ConfigureAwait(false);
        if (response.Status != 202)
        {
            throw await BlobErrors.FromResponseAsync(response, context, cancellationToken).ConfigureAwait(false);
        }

        return TimeSpan.FromSeconds(BlobResponses.RequireInt64(response, BlobHeaders.LeaseTime, context));
    }

    private HttpMessage CreateLeaseMessage(string name, string action)
    {
        HttpMessage message = CreateMessage(RequestMethod.Put, BlobPaths.EscapeBlobName(name));
        message.Request.Uri.AppendQuery("comp", "lease", escapeValue: false);
        message.Request.Headers.SetValue(BlobHeaders.LeaseAction, action);
        message.Request.Content = EmptyContent();
        return message;
    }

    private static LeaseResult ReadLeaseResult(Response response, OperationContext context) =>
        new(BlobResponses.RequireString(response, BlobHeaders.LeaseId, context), BlobResponses.RequireETag(response, context));

    /// <summary>
    /// A duration as the whole seconds a header carries. Range rules (15-60 s leases, 0-60 s
    /// breaks) are left to the service, which checks them in its own order relative to the lease
    /// state; only what no header could express fails here, as the service's 400 InvalidHeaderValue.
    /// </summary>
    private static string ToWholeSeconds(TimeSpan value, string header, OperationContext context)
    {
        if (value.Ticks % TimeSpan.TicksPerSecond != 0 || value < TimeSpan.FromSeconds(-1) || value > TimeSpan.FromSeconds(int.MaxValue))
        {
            throw BlobErrors.Synthesized(
                400, BlobErrorCodes.InvalidHeaderValue, context, $"{header} must be a whole number of seconds.");
        }

        return ((long)value.TotalSeconds).ToString(CultureInfo.InvariantCulture);
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
            : throw BlobErrors.Synthesized(
                400, BlobErrorCodes.InvalidHeaderValue, context, $"{BlobHeaders.ProposedLeaseId} must be a GUID.");
    }
}
