using System.Runtime.InteropServices;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using AzKv.Storage.AzureBlob.Errors;

namespace AzKv.Storage.AzureBlob;

/// <summary>
/// <see cref="IBlobStore"/> on Azure.Storage.Blobs: one <see cref="BlobContainerClient"/>, and the
/// SDK's per-blob clients made per call (they are cheap views over the container's pipeline).
/// This file holds the container operation and the helpers shared by all operations; the
/// operations are in the partial files by concern (BlockBlobs, AppendBlobs, Leases, Listing).
/// </summary>
/// <remarks>
/// Every SDK call is wrapped the same way: <c>catch (Exception ex) when (BlobErrors.TryTranslate(...))</c>,
/// so <see cref="BlobErrors"/> is the one place where SDK failures become <see cref="BlobStorageException"/>s.
/// </remarks>
internal sealed partial class AzureBlobStore : IBlobStore
{
    private const string DefaultContentType = "application/octet-stream";

    private static readonly IReadOnlyDictionary<string, string> EmptyMetadata =
        new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    private readonly BlobContainerClient _container;

    public AzureBlobStore(BlobContainerClient container)
    {
        _container = container;
    }

    public string ContainerName => _container.Name;

    public async Task<bool> CreateContainerIfNotExistsAsync(CancellationToken cancellationToken)
    {
        var context = new OperationContext("Create Container", ContainerName, null);
        try
        {
            await _container.CreateAsync(PublicAccessType.None, metadata: null, cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (BlobErrors.TryTranslate(ex, context, cancellationToken, out Exception translated))
        {
            if (translated is BlobStorageException { Status: 409, ErrorCode: BlobErrorCodes.ContainerAlreadyExists })
            {
                return false;
            }

            throw translated;
        }
    }

    /// <summary>
    /// The SDK's conditions for a blob operation: <see cref="BlobRequestConditions"/>, or
    /// <see cref="AppendBlobRequestConditions"/> for append blob operations (create, seal); null when there are none.
    /// </summary>
    private static T? ToConditions<T>(in BlobConditions conditions)
        where T : BlobRequestConditions, new() =>
        conditions.IfMatch is null && conditions.IfNoneMatch is null && conditions.LeaseId is null
            ? null
            : new T
            {
                IfMatch = ToETag(conditions.IfMatch),
                IfNoneMatch = ToETag(conditions.IfNoneMatch),
                LeaseId = conditions.LeaseId,
            };

    /// <summary>ETags pass through exactly as the store returned them (quotes included); <c>*</c> is <see cref="ETag.All"/>.</summary>
    private static ETag? ToETag(string? etag) => etag switch
    {
        null => null,
        "*" => ETag.All,
        _ => new ETag(etag),
    };

    /// <summary>An ETag as the contract hands it out: the header form, quoted (List Blobs on Azure sends it bare).</summary>
    private static string FromETag(ETag etag)
    {
        string value = etag.ToString();
        return value.Length >= 2 && value[0] == '"' ? value : "\"" + value + "\"";
    }

    /// <summary>
    /// A read-only stream over the caller's memory, without a copy when it is backed by an array
    /// (the SDK needs a seekable stream so a retry can resend the body).
    /// </summary>
    private static MemoryStream AsStream(ReadOnlyMemory<byte> content) =>
        MemoryMarshal.TryGetArray(content, out ArraySegment<byte> segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);

    /// <summary>
    /// Metadata for the SDK. Names must be C# identifiers (ASCII letters, digits and '_', not starting
    /// with a digit) and distinct ignoring case; values printable ASCII without leading or trailing
    /// whitespace (HTTP would strip it, so it could not round-trip). A violation fails as 400
    /// InvalidMetadata without a request, as the service would answer, so both stores agree.
    /// </summary>
    private static Dictionary<string, string>? ToMetadata(IReadOnlyDictionary<string, string>? metadata, OperationContext context)
    {
        if (metadata is null)
        {
            return null;
        }

        var result = new Dictionary<string, string>(metadata.Count, StringComparer.OrdinalIgnoreCase);
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

            if (!result.TryAdd(pair.Key, pair.Value))
            {
                throw BlobErrors.Synthesized(
                    400, BlobErrorCodes.InvalidMetadata, context, $"metadata name '{pair.Key}' appears twice (names are case-insensitive).");
            }
        }

        return result;
    }

    /// <summary>Metadata as the contract returns it: names compared ignoring case, with the case the service stored.</summary>
    private static IReadOnlyDictionary<string, string> FromMetadata(IDictionary<string, string>? metadata)
    {
        if (metadata is null || metadata.Count == 0)
        {
            return EmptyMetadata;
        }

        if (metadata is Dictionary<string, string> { Comparer: var comparer } dictionary && ReferenceEquals(comparer, StringComparer.OrdinalIgnoreCase))
        {
            return dictionary;
        }

        var result = new Dictionary<string, string>(metadata.Count, StringComparer.OrdinalIgnoreCase);
        foreach (KeyValuePair<string, string> pair in metadata)
        {
            result[pair.Key] = pair.Value;
        }

        return result;
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

    private static BlobKind? ToKind(BlobType? type) => type switch
    {
        BlobType.Block => BlobKind.Block,
        BlobType.Append => BlobKind.Append,
        _ => null,
    };

    private static LeaseState ToLeaseState(Azure.Storage.Blobs.Models.LeaseState? state) => state switch
    {
        Azure.Storage.Blobs.Models.LeaseState.Leased => LeaseState.Leased,
        Azure.Storage.Blobs.Models.LeaseState.Expired => LeaseState.Expired,
        Azure.Storage.Blobs.Models.LeaseState.Breaking => LeaseState.Breaking,
        Azure.Storage.Blobs.Models.LeaseState.Broken => LeaseState.Broken,
        _ => LeaseState.Available,
    };
}
