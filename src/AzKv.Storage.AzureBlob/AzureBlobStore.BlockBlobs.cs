using System.Globalization;
using Azure;
using Azure.Core;
using AzKv.Storage.AzureBlob.Protocol;

namespace AzKv.Storage.AzureBlob;

/// <summary>Put Blob, Get Blob, Get Blob Properties, Set Blob Metadata, Delete Blob.</summary>
internal sealed partial class AzureBlobStore
{
    public async Task<BlobWriteResult> PutBlockBlobAsync(
        string name, ReadOnlyMemory<byte> content, BlobWriteOptions options, CancellationToken cancellationToken)
    {
        var context = new OperationContext("Put Blob", ContainerName, name);
        using HttpMessage message = CreateMessage(RequestMethod.Put, BlobPaths.EscapeBlobName(name));
        Request request = message.Request;
        request.Headers.SetValue(BlobHeaders.BlobType, BlobHeaders.BlockBlob);
        request.Headers.SetValue(BlobHeaders.BlobContentType, options.ContentType ?? BlobHeaders.DefaultContentType);
        ApplyMetadata(request, options.Metadata, context);
        ApplyConditions(request, options.Conditions);
        request.Content = RequestContent.Create(content);

        Response response = await SendAsync(message, context, cancellationToken).ConfigureAwait(false);
        if (response.Status != 201)
        {
            throw await BlobErrors.FromResponseAsync(response, context, cancellationToken).ConfigureAwait(false);
        }

        return BlobResponses.ReadWriteResult(response, context);
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
        using HttpMessage message = CreateMessage(RequestMethod.Get, BlobPaths.EscapeBlobName(name));
        message.BufferResponse = false; // the body is read once, straight into an exact-size array
        Request request = message.Request;
        if (!range.IsAll)
        {
            request.Headers.SetValue(BlobHeaders.Range, FormatRange(range));
        }

        ApplyConditions(request, conditions);

        Response response = await SendAsync(message, context, cancellationToken).ConfigureAwait(false);
        if (response.Status is not (200 or 206))
        {
            // 304 (If-None-Match matched) lands here too and keeps its status: IsNotModified.
            throw await BlobErrors.FromResponseAsync(response, context, cancellationToken).ConfigureAwait(false);
        }

        long contentLength = BlobResponses.RequireInt64(response, BlobHeaders.ContentLength, context);
        long offset = 0;
        long totalLength = contentLength;
        if (response.Headers.TryGetValue(BlobHeaders.ContentRange, out string? contentRange))
        {
            if (!BlobResponses.TryParseContentRange(contentRange, out offset, out totalLength))
            {
                throw BlobErrors.MissingHeader(response, BlobHeaders.ContentRange, context);
            }
        }
        else if (response.Status == 206)
        {
            throw BlobErrors.MissingHeader(response, BlobHeaders.ContentRange, context);
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

        BlobProperties properties = BlobResponses.ReadProperties(response, name, totalLength, context);
        byte[] content = await ReadBodyAsync(response, contentLength, context, cancellationToken).ConfigureAwait(false);
        return new BlobDownload(properties, content, offset);
    }

    public async Task<BlobProperties> GetPropertiesAsync(string name, BlobConditions conditions, CancellationToken cancellationToken)
    {
        var context = new OperationContext("Get Blob Properties", ContainerName, name);
        using HttpMessage message = CreateMessage(RequestMethod.Head, BlobPaths.EscapeBlobName(name));
        ApplyConditions(message.Request, conditions);

        Response response = await SendAsync(message, context, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            // HEAD answers have no body: the code comes from x-ms-error-code only.
            throw await BlobErrors.FromResponseAsync(response, context, cancellationToken).ConfigureAwait(false);
        }

        long contentLength = BlobResponses.RequireInt64(response, BlobHeaders.ContentLength, context);
        return BlobResponses.ReadProperties(response, name, contentLength, context);
    }

    public async Task<BlobWriteResult> SetMetadataAsync(
        string name, IReadOnlyDictionary<string, string> metadata, BlobConditions conditions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var context = new OperationContext("Set Blob Metadata", ContainerName, name);
        using HttpMessage message = CreateMessage(RequestMethod.Put, BlobPaths.EscapeBlobName(name));
        Request request = message.Request;
        request.Uri.AppendQuery("comp", "metadata", escapeValue: false);
        ApplyMetadata(request, metadata, context);
        ApplyConditions(request, conditions);
        request.Content = EmptyContent();

        Response response = await SendAsync(message, context, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw await BlobErrors.FromResponseAsync(response, context, cancellationToken).ConfigureAwait(false);
        }

        return BlobResponses.ReadWriteResult(response, context);
    }

    public async Task DeleteAsync(string name, BlobConditions conditions, CancellationToken cancellationToken)
    {
        var context = new OperationContext("Delete Blob", ContainerName, name);
        using HttpMessage message = CreateMessage(RequestMethod.Delete, BlobPaths.EscapeBlobName(name));
        ApplyConditions(message.Request, conditions);

        Response response = await SendAsync(message, context, cancellationToken).ConfigureAwait(false);
        if (response.Status != 202)
        {
            throw await BlobErrors.FromResponseAsync(response, context, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary><c>bytes=a-b</c> (inclusive end) or <c>bytes=a-</c> (to the end).</summary>
    private static string FormatRange(BlobRange range) => range.Length is long length
        ? string.Create(CultureInfo.InvariantCulture, $"bytes={range.Offset}-{range.Offset + length - 1}")
        : string.Create(CultureInfo.InvariantCulture, $"bytes={range.Offset}-");
}
