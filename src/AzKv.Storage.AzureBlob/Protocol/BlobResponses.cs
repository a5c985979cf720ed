using System.Globalization;
using Azure;
using Azure.Core;

namespace AzKv.Storage.AzureBlob.Protocol;

/// <summary>Reads the typed values AzKv needs from Blob service response headers.</summary>
internal static class BlobResponses
{
    private static readonly IReadOnlyDictionary<string, string> EmptyMetadata =
        new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    public static string RequireETag(Response response, OperationContext context) =>
        response.Headers.TryGetValue(BlobHeaders.ETag, out string? etag) && !string.IsNullOrEmpty(etag)
            ? etag
            : throw BlobErrors.MissingHeader(response, BlobHeaders.ETag, context);

    public static DateTimeOffset RequireLastModified(Response response, OperationContext context) =>
        response.Headers.TryGetValue(BlobHeaders.LastModified, out string? text) && TryParseHttpDate(text, out DateTimeOffset value)
            ? value
            : throw BlobErrors.MissingHeader(response, BlobHeaders.LastModified, context);

    public static string RequireString(Response response, string header, OperationContext context) =>
        response.Headers.TryGetValue(header, out string? value) && !string.IsNullOrEmpty(value)
            ? value
            : throw BlobErrors.MissingHeader(response, header, context);

    public static long RequireInt64(Response response, string header, OperationContext context) =>
        TryGetInt64(response, header, out long value)
            ? value
            : throw BlobErrors.MissingHeader(response, header, context);

    public static bool TryGetInt64(Response response, string header, out long value)
    {
        value = 0;
        return response.Headers.TryGetValue(header, out string? text)
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    public static BlobWriteResult ReadWriteResult(Response response, OperationContext context) =>
        new(RequireETag(response, context), RequireLastModified(response, context));

    /// <summary>Builds properties from the headers of Get Blob / Get Blob Properties.</summary>
    public static BlobProperties ReadProperties(Response response, string name, long contentLength, OperationContext context)
    {
        response.Headers.TryGetValue(BlobHeaders.BlobType, out string? blobType);
        BlobKind kind = ParseBlobKind(blobType)
            ?? throw BlobErrors.Synthesized(
                409, BlobErrorCodes.InvalidBlobType, context, "only block and append blobs are supported.");

        response.Headers.TryGetValue(BlobHeaders.ContentType, out string? contentType);
        response.Headers.TryGetValue(BlobHeaders.LeaseState, out string? leaseState);
        response.Headers.TryGetValue(BlobHeaders.Sealed, out string? sealedText);
        int? blockCount = null;
        if (kind == BlobKind.Append && TryGetInt64(response, BlobHeaders.CommittedBlockCount, out long count))
        {
            blockCount = (int)count;
        }

        return new BlobProperties
        {
            Name = name,
            ETag = RequireETag(response, context),
            LastModified = RequireLastModified(response, context),
            ContentLength = contentLength,
            ContentType = contentType,
            Kind = kind,
            Metadata = ReadMetadata(response),
            LeaseState = ParseLeaseState(leaseState),
            CommittedBlockCount = blockCount,
            IsSealed = string.Equals(sealedText, "true", StringComparison.OrdinalIgnoreCase),
        };
    }

    /// <summary>Collects x-ms-meta-* headers; names keep the case the service returned.</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(Response response)
    {
        Dictionary<string, string>? metadata = null;
        foreach (HttpHeader header in response.Headers)
        {
            if (header.Name.Length > BlobHeaders.MetadataPrefix.Length
                && header.Name.StartsWith(BlobHeaders.MetadataPrefix, StringComparison.OrdinalIgnoreCase))
            {
                metadata ??= new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                metadata[header.Name[BlobHeaders.MetadataPrefix.Length..]] = header.Value;
            }
        }

        return metadata ?? EmptyMetadata;
    }

    /// <summary>Parses <c>bytes start-end/total</c> (or <c>bytes */total</c>).</summary>
    public static bool TryParseContentRange(string? text, out long start, out long total)
    {
        start = 0;
        total = 0;
        if (text is null || !text.StartsWith("bytes ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        ReadOnlySpan<char> rest = text.AsSpan(6).Trim();
        int slash = rest.IndexOf('/');
        if (slash < 0 || !long.TryParse(rest[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out total))
        {
            return false;
        }

        ReadOnlySpan<char> range = rest[..slash];
        if (range.SequenceEqual("*"))
        {
            return true;
        }

        int dash = range.IndexOf('-');
        return dash > 0 && long.TryParse(range[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out start);
    }

    public static bool TryParseHttpDate(string? text, out DateTimeOffset value) =>
        DateTimeOffset.TryParseExact(
            text, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);

    public static BlobKind? ParseBlobKind(string? text) => text switch
    {
        BlobHeaders.BlockBlob => BlobKind.Block,
        BlobHeaders.AppendBlob => BlobKind.Append,
        _ => null,
    };

    public static LeaseState ParseLeaseState(string? text) => text?.ToUpperInvariant() switch
    {
        "LEASED" => LeaseState.Leased,
        "EXPIRED" => LeaseState.Expired,
        "BREAKING" => LeaseState.Breaking,
        "BROKEN" => LeaseState.Broken,
        _ => LeaseState.Available,
    };

    /// <summary>
    /// List Blobs returns ETags without quotes (<c>0x8D...</c>) while headers quote them
    /// (<c>"0x8D..."</c>). The contract compares ETags ordinally, so listings are quoted to match.
    /// </summary>
    public static string QuoteETag(string etag) =>
        etag.Length >= 2 && etag[0] == '"' ? etag : "\"" + etag + "\"";
}
