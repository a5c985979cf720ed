using System.Globalization;
using Azure;
using Azure.Core;
using AzKv.Storage.AzureBlob.Protocol;

namespace AzKv.Storage.AzureBlob;

/// <summary>Create append blob (Put Blob, AppendBlob), Append Block, Append Blob Seal.</summary>
internal sealed partial class AzureBlobStore
{
    public async Task<BlobWriteResult> CreateAppendBlobAsync(string name, BlobWriteOptions options, CancellationToken cancellationToken)
    {
        var context = new OperationContext("Create Append Blob", ContainerName, name);
        using HttpMessage message = CreateMessage(RequestMethod.Put, BlobPaths.EscapeBlobName(name));
        Request request = message.Request;
        request.Headers.SetValue(BlobHeaders.BlobType, BlobHeaders.AppendBlob);
        request.Headers.SetValue(BlobHeaders.BlobContentType, options.ContentType ?? BlobHeaders.DefaultContentType);
        ApplyMetadata(request, options.Metadata, context);
        ApplyConditions(request, options.Conditions);
        request.Content = EmptyContent(); // Content-Length: 0 is required

        Response response = await SendAsync(message, context, cancellationToken).ConfigureAwait(false);
        if (response.Status != 201)
        {
            throw await BlobErrors.FromResponseAsync(response, context, cancellationToken).ConfigureAwait(false);
        }

        return BlobResponses.ReadWriteResult(response, context);
    }

    /// <remarks>
    /// The hot path of the write-ahead log. The block is sent from the caller's memory without a
    /// copy. A retried attempt whose first attempt landed fails with 412
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
            // The service accepts up to 100 MiB with our version; AzKv keeps 4 MiB everywhere (BlobLimits).
            throw BlobErrors.Synthesized(
                413,
                BlobErrorCodes.RequestBodyTooLarge,
                context,
                $"a block is at most {BlobLimits.MaxAppendBlockBytes.ToString(CultureInfo.InvariantCulture)} bytes.");
        }

        if (conditions.AppendPosition is < 0)
        {
            throw BlobErrors.Synthesized(
                400, BlobErrorCodes.InvalidHeaderValue, context, $"{BlobHeaders.AppendPosition} must not be negative.");
        }

        using HttpMessage message = CreateMessage(RequestMethod.Put, BlobPaths.EscapeBlobName(name));
        Request request = message.Request;
        request.Uri.AppendQuery("comp", "appendblock", escapeValue: false);
        if (conditions.LeaseId is not null)
        {
            request.Headers.SetValue(BlobHeaders.LeaseId, conditions.LeaseId);
        }

        if (conditions.AppendPosition is long position)
        {
            request.Headers.SetValue(BlobHeaders.AppendPosition, position.ToString(CultureInfo.InvariantCulture));
        }

        if (conditions.IfMatch is not null)
        {
            request.Headers.SetValue(BlobHeaders.IfMatch, conditions.IfMatch);
        }

        request.Content = RequestContent.Create(block);

        Response response = await SendAsync(message, context, cancellationToken).ConfigureAwait(false);
        if (response.Status != 201)
        {
            throw await BlobErrors.FromResponseAsync(response, context, cancellationToken).ConfigureAwait(false);
        }

        return new AppendResult(
            BlobResponses.RequireETag(response, context),
            BlobResponses.RequireInt64(response, BlobHeaders.AppendOffset, context),
            (int)BlobResponses.RequireInt64(response, BlobHeaders.CommittedBlockCount, context));
    }

    public async Task<BlobWriteResult> SealAsync(string name, BlobConditions conditions, CancellationToken cancellationToken)
    {
        var context = new OperationContext("Seal Blob", ContainerName, name);
        using HttpMessage message = CreateMessage(RequestMethod.Put, BlobPaths.EscapeBlobName(name));
        Request request = message.Request;
        request.Uri.AppendQuery("comp", "seal", escapeValue: false);
        ApplyConditions(request, conditions);
        request.Content = EmptyContent();

        Response response = await SendAsync(message, context, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw await BlobErrors.FromResponseAsync(response, context, cancellationToken).ConfigureAwait(false);
        }

        return BlobResponses.ReadWriteResult(response, context);
    }
}
