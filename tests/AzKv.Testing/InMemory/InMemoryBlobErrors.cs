using AzKv.Storage;

namespace AzKv.Testing;

/// <summary>
/// Every error the in-memory store raises, with the status, x-ms-error-code and message Azurite 3.35
/// returns for it (blob/errors/StorageErrorFactory.js), so both stores fail the same way.
/// </summary>
internal static class InMemoryBlobErrors
{
    // Service codes AzKv does not classify, so they are not in BlobErrorCodes.
    public const string MultipleConditionHeadersNotSupported = "MultipleConditionHeadersNotSupported";
    public const string UnsatisfiableCondition = "UnsatisfiableCondition";
    public const string OutOfRangeInput = "OutOfRangeInput";
    public const string InvalidQueryParameterValue = "InvalidQueryParameterValue";

    public static BlobStorageException ContainerNotFound() =>
        new(404, BlobErrorCodes.ContainerNotFound, "The specified container does not exist.");

    public static BlobStorageException BlobNotFound() =>
        new(404, BlobErrorCodes.BlobNotFound, "The specified blob does not exist.");

    public static BlobStorageException BlobAlreadyExists() =>
        new(409, BlobErrorCodes.BlobAlreadyExists, "The specified blob already exists.");

    public static BlobStorageException ConditionNotMet() =>
        new(412, BlobErrorCodes.ConditionNotMet, "The condition specified using HTTP conditional header(s) is not met.");

    /// <summary>A read whose If-None-Match matched: 304, and Azurite sends x-ms-error-code ConditionNotMet with it.</summary>
    public static BlobStorageException NotModified() =>
        new(304, BlobErrorCodes.ConditionNotMet, "The condition specified using HTTP conditional header(s) is not met.");

    public static BlobStorageException MultipleConditions() =>
        new(400, MultipleConditionHeadersNotSupported, "Multiple condition headers are not supported.");

    public static BlobStorageException Unsatisfiable() =>
        new(400, UnsatisfiableCondition, "The request includes an unsatisfiable condition for this operation.");

    public static BlobStorageException InvalidHeaderValue(string what) =>
        new(400, BlobErrorCodes.InvalidHeaderValue, $"The value for one of the HTTP headers is not in the correct format ({what}).");

    public static BlobStorageException InvalidMetadata(string what) =>
        new(400, BlobErrorCodes.InvalidMetadata, $"The metadata specified is invalid. It has characters that are not permitted ({what}).");

    public static BlobStorageException OutOfRange(string what) =>
        new(400, OutOfRangeInput, $"One of the request inputs is out of range ({what}).");

    public static BlobStorageException InvalidContinuationToken() =>
        new(400, InvalidQueryParameterValue, "Value for one of the query parameters specified in the request URI is invalid (marker).");

    public static BlobStorageException InvalidRange(long length) =>
        new(416, BlobErrorCodes.InvalidRange, $"The range specified is invalid for the current size of the resource (bytes */{length}).");

    public static BlobStorageException RequestBodyTooLarge() =>
        new(413, BlobErrorCodes.RequestBodyTooLarge, "The request body is too large and exceeds the maximum permissible limit.");

    public static BlobStorageException InvalidBlobType() =>
        new(409, BlobErrorCodes.InvalidBlobType, "The blob type is invalid for this operation.");

    public static BlobStorageException BlobIsSealed() =>
        new(409, BlobErrorCodes.BlobIsSealed, "The specified blob is sealed, and its contents can't be modified unless the blob is re-created after a delete.");

    public static BlobStorageException BlockCountExceedsLimit(int limit) =>
        new(409, BlobErrorCodes.BlockCountExceedsLimit, $"The committed block count cannot exceed the maximum limit of {limit:N0} blocks.");

    public static BlobStorageException AppendPositionConditionNotMet() =>
        new(412, BlobErrorCodes.AppendPositionConditionNotMet, "The append position condition specified was not met.");

    public static BlobStorageException LeaseAlreadyPresent() =>
        new(409, BlobErrorCodes.LeaseAlreadyPresent, "There is already a lease present.");

    public static BlobStorageException LeaseIsBreakingAndCannotBeAcquired() =>
        new(409, BlobErrorCodes.LeaseIsBreakingAndCannotBeAcquired, "There is already a breaking lease, and can't be acquired.");

    public static BlobStorageException LeaseIsBreakingAndCannotBeChanged() =>
        new(409, BlobErrorCodes.LeaseIsBreakingAndCannotBeChanged, "The lease ID matched, but the lease is currently in breaking state and cannot be changed.");

    public static BlobStorageException LeaseIsBrokenAndCannotBeRenewed() =>
        new(409, BlobErrorCodes.LeaseIsBrokenAndCannotBeRenewed, "The lease ID matched, but the lease has been broken explicitly and cannot be renewed.");

    public static BlobStorageException LeaseNotPresentWithLeaseOperation() =>
        new(409, BlobErrorCodes.LeaseNotPresentWithLeaseOperation, "There is currently no lease on the blob.");

    public static BlobStorageException LeaseIdMismatchWithLeaseOperation() =>
        new(409, BlobErrorCodes.LeaseIdMismatchWithLeaseOperation, "The lease ID specified did not match the lease ID for the blob.");

    public static BlobStorageException LeaseIdMissing() =>
        new(412, BlobErrorCodes.LeaseIdMissing, "There is currently a lease on the blob and no lease ID was specified in the request.");

    public static BlobStorageException LeaseIdMismatchWithBlobOperation() =>
        new(412, BlobErrorCodes.LeaseIdMismatchWithBlobOperation, "The lease ID specified did not match the lease ID for the blob.");

    /// <summary>
    /// A lease id was given but the blob has no active lease (available, expired or broken).
    /// Azurite answers 412 LeaseNotPresentWithBlobOperation here, with the message of Azure's LeaseLost.
    /// </summary>
    public static BlobStorageException LeaseNotPresentWithBlobOperation() =>
        new(412, BlobErrorCodes.LeaseNotPresentWithBlobOperation, "A lease ID was specified, but the lease for the blob has expired.");

    public static BlobStorageException Injected(BlobFaultAction action, BlobOperation operation, string? blobName) =>
        new(action.Status, action.ErrorCode, $"Injected fault: {operation} on '{blobName}' failed with {action.Status} {action.ErrorCode} before it happened.");

    /// <summary>The response of a request that reached the store was lost; the outcome is deliberately not attached.</summary>
    public static BlobStorageException ResponseLost(BlobOperation operation, string? blobName) =>
        new(0, BlobErrorCodes.NoResponse, $"Injected fault: {operation} on '{blobName}' reached the store but its response was lost.");
}
