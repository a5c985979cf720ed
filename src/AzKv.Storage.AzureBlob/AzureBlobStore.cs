using System.Buffers;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using AzKv.Storage.AzureBlob.Protocol;

namespace AzKv.Storage.AzureBlob;

/// <summary>
/// <see cref="IBlobStore"/> over the Blob service REST API, on one Azure.Core <see cref="HttpPipeline"/>.
/// This file holds the plumbing shared by all operations; the operations are in the partial
/// files by concern (BlockBlobs, AppendBlobs, Leases, Listing).
/// </summary>
internal sealed partial class AzureBlobStore : IBlobStore
{
    private readonly HttpPipeline _pipeline;
    private readonly Uri _containerUri;

    public AzureBlobStore(HttpPipeline pipeline, Uri containerUri, string containerName)
    {
        _pipeline = pipeline;
        _containerUri = containerUri;
        ContainerName = containerName;
    }

    public string ContainerName { get; }

    public async Task<bool> CreateContainerIfNotExistsAsync(CancellationToken cancellationToken)
    {
        var context = new OperationContext("Create Container", ContainerName, null);
        using HttpMessage message = CreateMessage(RequestMethod.Put, escapedBlobName: null);
        message.Request.Uri.AppendQuery("restype", "container", escapeValue: false);
        message.Request.Content = EmptyContent();

        Response response = await SendAsync(message, context, cancellationToken).ConfigureAwait(false);
        if (response.Status == 201)
        {
            return true;
        }

        BlobStorageException error = await BlobErrors.FromResponseAsync(response, context, cancellationToken).ConfigureAwait(false);
        if (error.Status == 409 && error.ErrorCode == BlobErrorCodes.ContainerAlreadyExists)
        {
            return false;
        }

        throw error;
    }

    /// <summary>A message for the container (<paramref name="escapedBlobName"/> null) or one of its blobs.</summary>
    private HttpMessage CreateMessage(RequestMethod method, string? escapedBlobName)
    {
        HttpMessage message = _pipeline.CreateMessage();
        Request request = message.Request;
        request.Method = method;
        request.Uri.Reset(_containerUri);
        if (escapedBlobName is not null)
        {
            request.Uri.AppendPath("/", escape: false);
            request.Uri.AppendPath(escapedBlobName, escape: false);
        }

        return message;
    }

    /// <summary>
    /// Sends through the pipeline (retries, signing, network timeout). A failure without a response
    /// becomes <see cref="BlobErrorCodes.NoResponse"/>; the caller's cancellation stays an
    /// <see cref="OperationCanceledException"/>. Any HTTP answer is returned for the caller to check.
    /// </summary>
    private async ValueTask<Response> SendAsync(HttpMessage message, OperationContext context, CancellationToken cancellationToken)
    {
        try
        {
            await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Exception? translated = BlobErrors.Translate(ex, context, cancellationToken);
            if (translated is null || ReferenceEquals(translated, ex))
            {
                throw;
            }

            throw translated;
        }

        return message.Response;
    }

    private static RequestContent EmptyContent() => RequestContent.Create(ReadOnlyMemory<byte>.Empty);

    private static void ApplyConditions(Request request, in BlobConditions conditions)
    {
        if (conditions.IfMatch is not null)
        {
            request.Headers.SetValue(BlobHeaders.IfMatch, conditions.IfMatch);
        }

        if (conditions.IfNoneMatch is not null)
        {
            request.Headers.SetValue(BlobHeaders.IfNoneMatch, conditions.IfNoneMatch);
        }

        if (conditions.LeaseId is not null)
        {
            request.Headers.SetValue(BlobHeaders.LeaseId, conditions.LeaseId);
        }
    }

    /// <summary>
    /// Adds <c>x-ms-meta-{name}</c> headers. Names must be C# identifiers (ASCII letters, digits and
    /// '_', not starting with a digit) and distinct ignoring case; values printable ASCII without
    /// leading or trailing whitespace (HTTP would strip it, so it could not round-trip). A violation
    /// fails as 400 InvalidMetadata without a request, as the service would answer.
    /// </summary>
    private static void ApplyMetadata(Request request, IReadOnlyDictionary<string, string>? metadata, OperationContext context)
    {
        if (metadata is null)
        {
            return;
        }

        foreach (KeyValuePair<string, string> pair in metadata)
        {
            if (!IsValidMetadataName(pair.Key) || !IsValidMetadataValue(pair.Value))
            {
                throw BlobErrors.Synthesized(
                    400,
                    BlobErrorCodes.InvalidMetadata,
                    context,
                    "metadata names must be C# identifiers and values printable ASCII without leading or trailing whitespace.");
            }

            string header = BlobHeaders.MetadataPrefix + pair.Key;
            if (request.Headers.Contains(header))
            {
                throw BlobErrors.Synthesized(
                    400, BlobErrorCodes.InvalidMetadata, context, $"metadata name '{pair.Key}' appears twice (names are case-insensitive).");
            }

            request.Headers.Add(header, pair.Value);
        }
    }

    private static bool IsValidMetadataName(string name)
    {
        if (string.IsNullOrEmpty(name) || char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsValidMetadataValue(string? value)
    {
        if (value is null)
        {
            return false;
        }

        if (value.Length > 0 && (value[0] == ' ' || value[^1] == ' '))
        {
            return false;
        }

        foreach (char c in value)
        {
            if (c is < ' ' or > '~')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Reads a streamed (unbuffered) response body into an exact-size array: one allocation of
    /// Content-Length bytes, no intermediate copies. Without Content-Length it reads into pooled
    /// buffers and copies once at the end.
    /// </summary>
    private static async ValueTask<byte[]> ReadBodyAsync(
        Response response, long? contentLength, OperationContext context, CancellationToken cancellationToken)
    {
        Stream? stream = response.ContentStream;
        if (stream is null || contentLength == 0)
        {
            return [];
        }

        try
        {
            if (contentLength is long exact)
            {
                if (exact > Array.MaxLength)
                {
                    throw BlobErrors.Synthesized(
                        response.Status, BlobErrors.InvalidResponse, context, "the content is larger than one array can hold; read it in ranges.");
                }

                byte[] data = GC.AllocateUninitializedArray<byte>((int)exact);
                await stream.ReadExactlyAsync(data, cancellationToken).ConfigureAwait(false);
                return data;
            }

            return await ReadToEndPooledAsync(stream, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not BlobStorageException)
        {
            Exception? translated = BlobErrors.Translate(ex, context, cancellationToken);
            if (translated is null || ReferenceEquals(translated, ex))
            {
                throw;
            }

            throw translated;
        }
    }

    private static async ValueTask<byte[]> ReadToEndPooledAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    byte[] larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                int read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return buffer.AsSpan(0, length).ToArray();
                }

                length += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
