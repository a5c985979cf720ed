using System.Globalization;
using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using AzKv.Storage.AzureBlob.Errors;

namespace AzKv.Storage.AzureBlob;

/// <summary>Put Blob, Get Blob, Get Blob Properties, Set Blob Metadata, Delete Blob.</summary>
internal sealed partial class AzureBlobStore
{
    public async Task<BlobWriteResult> PutBlockBlobAsync(
        string name, ReadOnlyMemory<byte> content, BlobWriteOptions options, CancellationToken cancellationToken)
    {
        var context = new OperationContext("Put Blob", ContainerName, name);
        BlockBlobClient blob = _container.GetBlockBlobClient(BlobNames.ValidateBlobName(name));
        var upload = new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = options.ContentType ?? DefaultContentType },
            Metadata = ToMetadata(options.Metadata, context),
            Conditions = ToConditions<BlobRequestConditions>(options.Conditions),
        };

        try
        {
            // BlockBlobClient.Upload is one Put Blob (BlobClient.Upload would split large content into blocks).
            using MemoryStream body = AsStream(content);
            Response<BlobContentInfo> response = await blob.UploadAsync(body, upload, cancellationToken).ConfigureAwait(false);
            return new BlobWriteResult(FromETag(response.Value.ETag), response.Value.LastModified);
        }
        catch (Exception ex) when (BlobErrors.TryTranslate(ex, context, cancellationToken, out Exception translated))
        {
            throw translated;
        }
    }

    public async Task<BlobDownload> DownloadAsync(
        string name, BlobRange range, BlobConditions conditions, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(range.Offset, nameof(range));
        if (range.Length is long requested)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(requested, nameof(range));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(requested, long.MaxValue - range.Offset, nameof(range));
        }

        var context = new OperationContext("Get Blob", ContainerName, name);
        BlobBaseClient blob = _container.GetBlobBaseClient(BlobNames.ValidateBlobName(name));
        var download = new BlobDownloadOptions
        {
            Range = range.IsAll ? default : new HttpRange(range.Offset, range.Length),
            Conditions = ToConditions<BlobRequestConditions>(conditions),
        };

        Response<BlobDownloadResult> response;
        try
        {
            response = await blob.DownloadContentAsync(download, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (BlobErrors.TryTranslate(ex, context, cancellationToken, out Exception translated))
        {
            throw translated;
        }

        if (!response.HasValue)
        {
            // The SDK answers a 304 (If-None-Match matched) with a response without a value rather than
            // an exception; it keeps its status: IsNotModified.
            throw BlobErrors.FromResponse(response.GetRawResponse(), context);
        }

        BlobDownloadResult result = response.Value;
        BlobDownloadDetails details = result.Details;
        long offset = 0;
        long totalLength = details.ContentLength;
        if (details.ContentRange is { Length: > 0 } contentRange && !TryParseContentRange(contentRange, out offset, out totalLength))
        {
            throw BlobErrors.Invalid(range.IsAll ? 200 : 206, context, "unparsable Content-Range");
        }

        if (!range.IsAll && range.Offset >= totalLength)
        {
            // Azure answers 416 InvalidRange here; Azurite 3.35 answers 206 with an empty body when
            // the range starts exactly at the end. Both implementations of IBlobStore must fail.
            throw BlobErrors.Synthesized(
                416,
                BlobErrorCodes.InvalidRange,
                context,
                $"the range starts at {range.Offset.ToString(CultureInfo.InvariantCulture)}, at or past the end of the blob ({totalLength.ToString(CultureInfo.InvariantCulture)} bytes).");
        }

        var properties = new BlobProperties
        {
            Name = name,
            ETag = FromETag(details.ETag),
            LastModified = details.LastModified,
            ContentLength = totalLength,
            ContentType = details.ContentType,
            Kind = ToKind(details.BlobType) ?? throw UnsupportedBlobType(context),
            Metadata = FromMetadata(details.Metadata),
            LeaseState = ToLeaseState(details.LeaseState),
            CommittedBlockCount = details.BlobType == BlobType.Append ? details.BlobCommittedBlockCount : null,
            IsSealed = details.IsSealed,
        };

        // BinaryData over the buffer the SDK filled for this call: the caller owns it, no copy.
        return new BlobDownload(properties, result.Content.ToMemory(), offset);
    }

    public async Task<BlobProperties> GetPropertiesAsync(string name, BlobConditions conditions, CancellationToken cancellationToken)
    {
        var context = new OperationContext("Get Blob Properties", ContainerName, name);
        BlobBaseClient blob = _container.GetBlobBaseClient(BlobNames.ValidateBlobName(name));
        Response<Azure.Storage.Blobs.Models.BlobProperties> response;
        try
        {
            response = await blob.GetPropertiesAsync(ToConditions<BlobRequestConditions>(conditions), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (BlobErrors.TryTranslate(ex, context, cancellationToken, out Exception translated))
        {
            throw translated;
        }

        if (!response.HasValue)
        {
            throw BlobErrors.FromResponse(response.GetRawResponse(), context);
        }

        Azure.Storage.Blobs.Models.BlobProperties properties = response.Value;
        return new BlobProperties
        {
            Name = name,
            ETag = FromETag(properties.ETag),
            LastModified = properties.LastModified,
            ContentLength = properties.ContentLength,
            ContentType = properties.ContentType,
            Kind = ToKind(properties.BlobType) ?? throw UnsupportedBlobType(context),
            Metadata = FromMetadata(properties.Metadata),
            LeaseState = ToLeaseState(properties.LeaseState),
            CommittedBlockCount = properties.BlobType == BlobType.Append ? properties.BlobCommittedBlockCount : null,
            IsSealed = properties.IsSealed,
        };
    }

    public async Task<BlobWriteResult> SetMetadataAsync(
        string name, IReadOnlyDictionary<string, string> metadata, BlobConditions conditions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var context = new OperationContext("Set Blob Metadata", ContainerName, name);
        BlobBaseClient blob = _container.GetBlobBaseClient(BlobNames.ValidateBlobName(name));
        Dictionary<string, string> values = ToMetadata(metadata, context)!;
        try
        {
            Response<BlobInfo> response = await blob.SetMetadataAsync(values, ToConditions<BlobRequestConditions>(conditions), cancellationToken).ConfigureAwait(false);
            return new BlobWriteResult(FromETag(response.Value.ETag), response.Value.LastModified);
        }
        catch (Exception ex) when (BlobErrors.TryTranslate(ex, context, cancellationToken, out Exception translated))
        {
            throw translated;
        }
    }

    public async Task DeleteAsync(string name, BlobConditions conditions, CancellationToken cancellationToken)
    {
        var context = new OperationContext("Delete Blob", ContainerName, name);
        BlobBaseClient blob = _container.GetBlobBaseClient(BlobNames.ValidateBlobName(name));
        try
        {
            await blob.DeleteAsync(DeleteSnapshotsOption.None, ToConditions<BlobRequestConditions>(conditions), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (BlobErrors.TryTranslate(ex, context, cancellationToken, out Exception translated))
        {
            throw translated;
        }
    }

    /// <summary>Page blobs are not part of the contract (<see cref="BlobKind"/> has no value for them).</summary>
    private static BlobStorageException UnsupportedBlobType(OperationContext context) =>
        BlobErrors.Synthesized(409, BlobErrorCodes.InvalidBlobType, context, "only block and append blobs are supported.");

    /// <summary>Parses the SDK's Content-Range value, <c>bytes start-end/total</c> (or <c>bytes */total</c>).</summary>
    private static bool TryParseContentRange(string text, out long start, out long total)
    {
        start = 0;
        total = 0;
        if (!text.StartsWith("bytes ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        ReadOnlySpan<char> rest = text.AsSpan(6).Trim();
        int slash = rest.IndexOf('/');
        if (slash < 0 || !long.TryParse(rest[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out total))
        {
            return false;
        }

        ReadOnlySpan<char> span = rest[..slash];
        if (span.SequenceEqual("*"))
        {
            return true;
        }

        int dash = span.IndexOf('-');
        return dash > 0 && long.TryParse(span[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out start);
    }
}
