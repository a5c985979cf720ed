using System.Globalization;
using System.Xml;
using Azure;
using Azure.Core;
using AzKv.Storage.AzureBlob.Protocol;

namespace AzKv.Storage.AzureBlob;

/// <summary>List Blobs (<c>GET ?restype=container&amp;comp=list</c>).</summary>
internal sealed partial class AzureBlobStore
{
    /// <summary>The service returns at most this many blobs per page.</summary>
    private const int MaxPageSize = 5000;

    public async Task<BlobListPage> ListAsync(
        string prefix, string? continuationToken, int? pageSizeHint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (pageSizeHint is int hint)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hint, nameof(pageSizeHint));
        }

        var context = new OperationContext("List Blobs", ContainerName, null);
        using HttpMessage message = CreateMessage(RequestMethod.Get, escapedBlobName: null);
        RequestUriBuilder uri = message.Request.Uri;
        uri.AppendQuery("restype", "container", escapeValue: false);
        uri.AppendQuery("comp", "list", escapeValue: false);
        if (prefix.Length > 0)
        {
            uri.AppendQuery("prefix", prefix, escapeValue: true);
        }

        if (!string.IsNullOrEmpty(continuationToken))
        {
            uri.AppendQuery("marker", continuationToken, escapeValue: true);
        }

        if (pageSizeHint is int size)
        {
            uri.AppendQuery("maxresults", Math.Min(size, MaxPageSize).ToString(CultureInfo.InvariantCulture), escapeValue: false);
        }

        Response response = await SendAsync(message, context, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw await BlobErrors.FromResponseAsync(response, context, cancellationToken).ConfigureAwait(false);
        }

        // Azure.Core has buffered the body into memory, so parsing it synchronously blocks on nothing.
        Stream body = response.ContentStream ?? Stream.Null;
        try
        {
            return BlobListParser.Parse(body);
        }
        catch (Exception ex) when (ex is XmlException or FormatException or OverflowException)
        {
            throw BlobErrors.InvalidBody(response, context, ex);
        }
    }
}
