using System.Globalization;
using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using AzKv.Storage.AzureBlob.Errors;

namespace AzKv.Storage.AzureBlob;

/// <summary>Create append blob, Append Block, Append Blob Seal (<see cref="AppendBlobClient"/>).</summary>
internal sealed partial class AzureBlobStore
{
    public async Task<BlobWriteResult> CreateAppendBlobAsync(string name, BlobWriteOptions options, CancellationToken cancellationToken)
    {
        var context = new OperationContext("Create Append Blob", ContainerName, name);
        AppendBlobClient blob = _container.GetAppendBlobClient(BlobNames.ValidateBlobName(name));
        var create = new AppendBlobCreateOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = options.ContentType ?? DefaultContentType },
            Metadata = ToMetadata(options.Metadata, context),
            Conditions = ToConditions<AppendBlobRequestConditions>(options.Conditions),
        };

        try
        {
            Response<BlobContentInfo> response = await blob.CreateAsync(create, cancellationToken).ConfigureAwait(false);
            return new BlobWriteResult(FromETag(response.Value.ETag), response.Value.LastModified);
        }
        catch (Exception ex) when (BlobErrors.TryTranslate(ex, context, cancellationToken, out Exception translated))
        {
            throw translated;
        }
    }

    /// <remarks>
    /// The hot path of the write-ahead log. The block is sent from the caller's memory without a
    /// copy, with the lease id, the append position (<see cref="AppendBlobRequestConditions.IfAppendPositionEqual"/>)
    /// and If-Match as given. A retried attempt whose first attempt landed fails with 412
    /// AppendPositionConditionNotMet (the position moved by our own block); the engine resolves
    /// that by reading the tail, not the client.
    /// </remarks>
    public async Task<AppendResult> AppendBlockAsync(
        string name, ReadOnlyMemory<byte> block, AppendConditions conditions, CancellationToken cancellationToken)
    {
        var context = new OperationContext("Append Block", ContainerName, name);
        if (block.Length == 0)
        {
            throw BlobErrors.Synthesized(400, BlobErrorCodes.InvalidHeaderValue, context, "an appended block must not be empty.");
        }

        if (block.Length > BlobLimits.MaxAppendBlockBytes)
        {
            // The service accepts up to 100 MiB at our version; AzKv keeps 4 MiB everywhere (BlobLimits).
            throw BlobErrors.Synthesized(
                413,
                BlobErrorCodes.RequestBodyTooLarge,
                context,
                $"a block is at most {BlobLimits.MaxAppendBlockBytes.ToString(CultureInfo.InvariantCulture)} bytes.");
        }

        if (conditions.AppendPosition is < 0)
        {
            throw BlobErrors.Synthesized(400, BlobErrorCodes.InvalidHeaderValue, context, "the append position must not be negative.");
        }

        AppendBlobClient blob = _container.GetAppendBlobClient(BlobNames.ValidateBlobName(name));
        var append = new AppendBlobAppendBlockOptions
        {
            Conditions = conditions.LeaseId is null && conditions.AppendPosition is null && conditions.IfMatch is null
                ? null
                : new AppendBlobRequestConditions
                {
                    LeaseId = conditions.LeaseId,
                    IfAppendPositionEqual = conditions.AppendPosition,
                    IfMatch = ToETag(conditions.IfMatch),
                },
        };

        BlobAppendInfo info;
        try
        {
            using MemoryStream body = AsStream(block);
            info = (await blob.AppendBlockAsync(body, append, cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (Exception ex) when (BlobErrors.TryTranslate(ex, context, cancellationToken, out Exception translated))
        {
            throw translated;
        }

        // The SDK hands x-ms-blob-append-offset over as the header's text.
        if (!long.TryParse(info.BlobAppendOffset, NumberStyles.None, CultureInfo.InvariantCulture, out long offset))
        {
            throw BlobErrors.Invalid(201, context, "no valid x-ms-blob-append-offset");
        }

        return new AppendResult(FromETag(info.ETag), offset, info.BlobCommittedBlockCount);
    }

    public async Task<BlobWriteResult> SealAsync(string name, BlobConditions conditions, CancellationToken cancellationToken)
    {
        var context = new OperationContext("Seal Blob", ContainerName, name);
        AppendBlobClient blob = _container.GetAppendBlobClient(BlobNames.ValidateBlobName(name));
        try
        {
            Response<BlobInfo> response = await blob.SealAsync(ToConditions<AppendBlobRequestConditions>(conditions), cancellationToken).ConfigureAwait(false);
            return new BlobWriteResult(FromETag(response.Value.ETag), response.Value.LastModified);
        }
        catch (Exception ex) when (BlobErrors.TryTranslate(ex, context, cancellationToken, out Exception translated))
        {
            throw translated;
        }
    }
}
