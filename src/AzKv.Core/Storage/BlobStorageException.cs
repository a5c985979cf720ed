namespace AzKv.Storage;

/// <summary>
/// The one error type of <see cref="IBlobStore"/>. Callers classify it only through the
/// named predicates below, never by comparing status codes inline.
/// </summary>
/// <remarks>
/// <see cref="ErrorCode"/> is the service's <c>x-ms-error-code</c>. A failure that never got an
/// HTTP answer (connection refused or reset, a timeout, a response lost after the write
/// happened) has <see cref="Status"/> 0 and <see cref="BlobErrorCodes.NoResponse"/>: the caller
/// cannot know whether the write happened.
/// </remarks>
public sealed class BlobStorageException : Exception
{
    /// <summary>Creates an error for an HTTP answer (status 0 when there was none).</summary>
    public BlobStorageException(int status, string? errorCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Status = status;
        ErrorCode = errorCode;
    }

    /// <summary>HTTP status, or 0 when no response arrived.</summary>
    public int Status { get; }

    /// <summary>The service error code (x-ms-error-code), when there was one.</summary>
    public string? ErrorCode { get; }

    /// <summary>The blob or container does not exist.</summary>
    public bool IsNotFound => Status == 404;

    /// <summary>The container does not exist.</summary>
    public bool IsContainerNotFound => Is(BlobErrorCodes.ContainerNotFound);

    /// <summary>A create-only write found the blob (or container) already there.</summary>
    public bool IsAlreadyExists => Is(BlobErrorCodes.BlobAlreadyExists) || Is(BlobErrorCodes.ContainerAlreadyExists);

    /// <summary>An If-Match / If-None-Match condition failed (on reads with If-None-Match: 304).</summary>
    public bool IsConditionNotMet => Is(BlobErrorCodes.ConditionNotMet) || Status == 304;

    /// <summary>
    /// A compare-and-swap lost: an ETag condition failed or a create-only write found the blob.
    /// The caller should re-read and decide again.
    /// </summary>
    public bool IsPreconditionFailed => IsConditionNotMet || Is(BlobErrorCodes.BlobAlreadyExists);

    /// <summary>Nothing changed because the ETag given with If-None-Match still matches (GET → 304).</summary>
    public bool IsNotModified => Status == 304;

    /// <summary>
    /// A lease operation found the lease held by someone else, being broken, or not there:
    /// the caller does not get (or keep) the lease through this call.
    /// </summary>
    public bool IsLeaseConflict =>
        Is(BlobErrorCodes.LeaseAlreadyPresent)
        || Is(BlobErrorCodes.LeaseIdMismatchWithLeaseOperation)
        || Is(BlobErrorCodes.LeaseIsBreakingAndCannotBeAcquired)
        || Is(BlobErrorCodes.LeaseIsBreakingAndCannotBeChanged)
        || Is(BlobErrorCodes.LeaseIsBrokenAndCannotBeRenewed)
        || Is(BlobErrorCodes.LeaseNotPresentWithLeaseOperation)
        || Is(BlobErrorCodes.LeaseAlreadyBroken);

    /// <summary>
    /// A write or renew made under a lease was refused because the caller no longer holds that
    /// lease (lost, broken, taken, or a lease is required and none was given). The caller must stop
    /// acting as owner at once.
    /// </summary>
    public bool IsLeaseLost =>
        Is(BlobErrorCodes.LeaseLost)
        || Is(BlobErrorCodes.LeaseIdMismatchWithBlobOperation)
        || Is(BlobErrorCodes.LeaseNotPresentWithBlobOperation)
        || Is(BlobErrorCodes.LeaseIdMissing)
        || Is(BlobErrorCodes.LeaseIdMismatchWithLeaseOperation)
        || Is(BlobErrorCodes.LeaseIsBrokenAndCannotBeRenewed)
        || Is(BlobErrorCodes.LeaseNotPresentWithLeaseOperation);

    /// <summary>An Append Block's x-ms-blob-condition-appendpos did not match the blob's length.</summary>
    public bool IsAppendPositionMismatch => Is(BlobErrorCodes.AppendPositionConditionNotMet);

    /// <summary>The append blob is sealed; no append can succeed.</summary>
    public bool IsBlobSealed => Is(BlobErrorCodes.BlobIsSealed);

    /// <summary>The append blob reached its block-count limit.</summary>
    public bool IsBlockCountExceeded => Is(BlobErrorCodes.BlockCountExceedsLimit);

    /// <summary>The requested range starts at or past the end of the blob.</summary>
    public bool IsInvalidRange => Status == 416 || Is(BlobErrorCodes.InvalidRange);

    /// <summary>The operation does not apply to this kind of blob (e.g. Append Block on a block blob).</summary>
    public bool IsInvalidBlobType => Is(BlobErrorCodes.InvalidBlobType);

    /// <summary>The service asked us to slow down (503 ServerBusy, 429).</summary>
    public bool IsThrottled => Status == 429 || Is(BlobErrorCodes.ServerBusy);

    /// <summary>The credentials were refused (401/403).</summary>
    public bool IsAuthenticationFailed => Status is 401 or 403;

    /// <summary>
    /// The failure may go away on retry: no response, request timeout, throttling, or a server
    /// error. For a non-idempotent write the caller must first find out whether it happened.
    /// </summary>
    public bool IsTransient => Status is 0 or 408 or 429 or 500 or 502 or 503 or 504;

    /// <summary>No response arrived: the write may or may not have happened.</summary>
    public bool IsOutcomeUnknown => Status == 0;

    /// <summary>
    /// The request may have been carried out although it failed: no answer (status 0), or a
    /// timeout / internal error reported after the service may have applied it (408, 500, 504).
    /// Throttling (429, 503 ServerBusy) and other 4xx answers are definite refusals.
    /// </summary>
    public bool MayHaveBeenApplied => Status is 0 or 408 or 500 or 504;

    private bool Is(string code) => string.Equals(ErrorCode, code, StringComparison.Ordinal);
}

/// <summary>Error codes (x-ms-error-code) AzKv distinguishes.</summary>
public static class BlobErrorCodes
{
#pragma warning disable CS1591 // The names are the service's own codes.
    public const string NoResponse = "NoResponse";
    public const string ContainerNotFound = "ContainerNotFound";
    public const string BlobNotFound = "BlobNotFound";
    public const string ContainerAlreadyExists = "ContainerAlreadyExists";
    public const string BlobAlreadyExists = "BlobAlreadyExists";
    public const string ConditionNotMet = "ConditionNotMet";
    public const string LeaseAlreadyPresent = "LeaseAlreadyPresent";
    public const string LeaseAlreadyBroken = "LeaseAlreadyBroken";
    public const string LeaseIdMismatchWithLeaseOperation = "LeaseIdMismatchWithLeaseOperation";
    public const string LeaseIdMismatchWithBlobOperation = "LeaseIdMismatchWithBlobOperation";
    public const string LeaseIdMissing = "LeaseIdMissing";
    public const string LeaseIsBreakingAndCannotBeAcquired = "LeaseIsBreakingAndCannotBeAcquired";
    public const string LeaseIsBreakingAndCannotBeChanged = "LeaseIsBreakingAndCannotBeChanged";
    public const string LeaseIsBrokenAndCannotBeRenewed = "LeaseIsBrokenAndCannotBeRenewed";
    public const string LeaseLost = "LeaseLost";
    public const string LeaseNotPresentWithBlobOperation = "LeaseNotPresentWithBlobOperation";
    public const string LeaseNotPresentWithLeaseOperation = "LeaseNotPresentWithLeaseOperation";
    public const string AppendPositionConditionNotMet = "AppendPositionConditionNotMet";
    public const string MaxBlobSizeConditionNotMet = "MaxBlobSizeConditionNotMet";
    public const string BlockCountExceedsLimit = "BlockCountExceedsLimit";
    public const string BlobIsSealed = "BlobIsSealed";
    public const string InvalidBlobType = "InvalidBlobType";
    public const string InvalidRange = "InvalidRange";
    public const string InvalidHeaderValue = "InvalidHeaderValue";
    public const string InvalidMetadata = "InvalidMetadata";
    public const string RequestBodyTooLarge = "RequestBodyTooLarge";
    public const string ServerBusy = "ServerBusy";
    public const string OperationTimedOut = "OperationTimedOut";
    public const string InternalError = "InternalError";
#pragma warning restore CS1591
}
