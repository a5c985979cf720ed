using AzKv.Storage;

namespace AzKv.Testing;

/// <summary>Request conditions, lease checks on blob operations, and metadata rules.</summary>
public sealed partial class InMemoryBlobStore
{
    /// <summary>
    /// If-Match / If-None-Match on a write, after Azurite's WriteConditionalHeadersValidator, except
    /// that <c>*</c> means what <see cref="BlobConditions"/> documents: If-Match: * needs the blob to exist,
    /// If-None-Match: * needs it not to exist (Azurite lets both through; see docs/testing.md).
    /// </summary>
    private static void CheckWriteConditions(BlobEntry? entry, BlobConditions conditions, bool isCreate)
    {
        var ifMatch = conditions.IfMatch;
        var ifNoneMatch = conditions.IfNoneMatch;
        var hasIfMatch = !string.IsNullOrEmpty(ifMatch);
        var hasIfNoneMatch = !string.IsNullOrEmpty(ifNoneMatch);
        if (hasIfMatch && hasIfNoneMatch)
        {
            throw InMemoryBlobErrors.MultipleConditions();
        }

        if (entry is null)
        {
            if (hasIfMatch)
            {
                throw InMemoryBlobErrors.ConditionNotMet();
            }

            return;
        }

        if (hasIfNoneMatch)
        {
            if (ifNoneMatch == "*")
            {
                // Put Blob / create append blob answer 409 (Azurite createBlob); other writes 412.
                throw isCreate ? InMemoryBlobErrors.BlobAlreadyExists() : InMemoryBlobErrors.ConditionNotMet();
            }

            if (SameETag(ifNoneMatch!, entry.ETag))
            {
                throw InMemoryBlobErrors.ConditionNotMet();
            }

            return;
        }

        if (hasIfMatch && ifMatch != "*" && !SameETag(ifMatch!, entry.ETag))
        {
            throw InMemoryBlobErrors.ConditionNotMet();
        }
    }

    /// <summary>If-Match / If-None-Match on a read, exactly as Azurite's ReadConditionalHeadersValidator.</summary>
    private static void CheckReadConditions(BlobEntry? entry, BlobConditions conditions)
    {
        var ifMatch = conditions.IfMatch;
        var ifNoneMatch = conditions.IfNoneMatch;
        var hasIfMatch = !string.IsNullOrEmpty(ifMatch);
        var hasIfNoneMatch = !string.IsNullOrEmpty(ifNoneMatch);
        if (entry is null)
        {
            // Checked before the blob's existence: If-Match on a missing blob is 412, not 404.
            if (hasIfMatch)
            {
                throw InMemoryBlobErrors.ConditionNotMet();
            }

            if (ifNoneMatch == "*")
            {
                throw InMemoryBlobErrors.Unsatisfiable();
            }

            return;
        }

        if (ifNoneMatch == "*")
        {
            throw InMemoryBlobErrors.Unsatisfiable();
        }

        if (hasIfMatch && ifMatch != "*" && !SameETag(ifMatch!, entry.ETag))
        {
            throw InMemoryBlobErrors.ConditionNotMet();
        }

        if (hasIfNoneMatch && SameETag(ifNoneMatch!, entry.ETag))
        {
            throw InMemoryBlobErrors.NotModified();
        }
    }

    /// <summary>
    /// The lease check of a write (Azurite BlobWriteLeaseValidator): an active lease (leased or breaking)
    /// needs its id; a lease id on a blob without an active lease (available, expired, broken) is refused.
    /// Lease ids are compared case-insensitively here, as Azurite does.
    /// </summary>
    private static void CheckWriteLease(BlobEntry entry, string? leaseId)
    {
        if (entry.Lease.IsActive)
        {
            if (string.IsNullOrEmpty(leaseId))
            {
                throw InMemoryBlobErrors.LeaseIdMissing();
            }

            if (!string.Equals(leaseId, entry.Lease.Id, StringComparison.OrdinalIgnoreCase))
            {
                throw InMemoryBlobErrors.LeaseIdMismatchWithBlobOperation();
            }
        }
        else if (!string.IsNullOrEmpty(leaseId))
        {
            throw InMemoryBlobErrors.LeaseNotPresentWithBlobOperation();
        }
    }

    /// <summary>The lease check of a read (Azurite BlobReadLeaseValidator): only when a lease id is given.</summary>
    private static void CheckReadLease(BlobEntry entry, string? leaseId)
    {
        if (string.IsNullOrEmpty(leaseId))
        {
            return;
        }

        if (!entry.Lease.IsActive)
        {
            throw InMemoryBlobErrors.LeaseNotPresentWithBlobOperation();
        }

        if (!string.Equals(leaseId, entry.Lease.Id, StringComparison.OrdinalIgnoreCase))
        {
            throw InMemoryBlobErrors.LeaseIdMismatchWithBlobOperation();
        }
    }

    /// <summary>ETags compare ordinally, ignoring surrounding quotes on either side (as Azurite does).</summary>
    private static bool SameETag(string condition, string etag) =>
        string.Equals(Unquote(condition), Unquote(etag), StringComparison.Ordinal);

    private static string Unquote(string etag) =>
        etag.Length >= 2 && etag[0] == '"' && etag[^1] == '"' ? etag[1..^1] : etag;

    private static Dictionary<string, string> NewMetadata() => new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Copies and validates metadata: names are C# identifiers (Azurite VALID_CSHARP_IDENTIFIER_REGEX,
    /// <c>^[a-zA-Z_][a-zA-Z0-9_]*$</c>) and unique ignoring case; values are printable ASCII, as an
    /// HTTP header carries them. Anything else is 400 InvalidMetadata.
    /// </summary>
    private static Dictionary<string, string> CopyMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        var copy = NewMetadata();
        foreach (var (name, value) in metadata)
        {
            if (!IsIdentifier(name))
            {
                throw InMemoryBlobErrors.InvalidMetadata($"name '{name}' is not a C# identifier");
            }

            if (value is null || !value.All(c => c is >= ' ' and <= '~'))
            {
                throw InMemoryBlobErrors.InvalidMetadata($"value of '{name}' is not printable ASCII");
            }

            if (!copy.TryAdd(name, value))
            {
                throw InMemoryBlobErrors.InvalidMetadata($"name '{name}' appears twice, ignoring case");
            }
        }

        return copy;
    }

    private static bool IsIdentifier(string name) =>
        name.Length > 0
        && (char.IsAsciiLetter(name[0]) || name[0] == '_')
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
