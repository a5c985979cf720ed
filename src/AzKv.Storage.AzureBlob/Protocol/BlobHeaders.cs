namespace AzKv.Storage.AzureBlob.Protocol;

/// <summary>Header names and fixed values of the Blob service REST protocol.</summary>
internal static class BlobHeaders
{
    /// <summary>
    /// The one REST version every request is pinned to. Azure accepts it and so does
    /// Azurite 3.35.0 (see its dist/src/blob/utils/constants.js). Changing it changes
    /// behaviour (limits, error codes), so it is a code change, not a setting.
    /// </summary>
    public const string ServiceVersion = "2025-01-05";

    public const string Version = "x-ms-version";
    public const string Date = "x-ms-date";
    public const string ClientRequestId = "x-ms-client-request-id";
    public const string RequestId = "x-ms-request-id";
    public const string ErrorCode = "x-ms-error-code";

    public const string IfMatch = "If-Match";
    public const string IfNoneMatch = "If-None-Match";
    public const string ETag = "ETag";
    public const string LastModified = "Last-Modified";
    public const string ContentLength = "Content-Length";
    public const string ContentType = "Content-Type";
    public const string ContentRange = "Content-Range";

    public const string BlobType = "x-ms-blob-type";
    public const string BlobContentType = "x-ms-blob-content-type";
    public const string MetadataPrefix = "x-ms-meta-";
    public const string Range = "x-ms-range";
    public const string CommittedBlockCount = "x-ms-blob-committed-block-count";
    public const string AppendOffset = "x-ms-blob-append-offset";
    public const string AppendPosition = "x-ms-blob-condition-appendpos";
    public const string Sealed = "x-ms-blob-sealed";

    public const string LeaseId = "x-ms-lease-id";
    public const string LeaseAction = "x-ms-lease-action";
    public const string LeaseDuration = "x-ms-lease-duration";
    public const string ProposedLeaseId = "x-ms-proposed-lease-id";
    public const string LeaseBreakPeriod = "x-ms-lease-break-period";
    public const string LeaseTime = "x-ms-lease-time";
    public const string LeaseState = "x-ms-lease-state";

    public const string BlockBlob = "BlockBlob";
    public const string AppendBlob = "AppendBlob";
    public const string DefaultContentType = "application/octet-stream";
}
