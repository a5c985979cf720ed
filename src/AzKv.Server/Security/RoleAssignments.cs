using System.Text.Json;
using System.Text.Json.Serialization;
using AzKv.Storage;

namespace AzKv.Server.Security;

/// <summary>One stored grant: a principal (Entra object id, group id, or a local token's subject), a role, key prefixes (empty: every key).</summary>
internal sealed record RoleAssignment(
    [property: JsonPropertyName("principal")] string Principal,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("prefixes")] IReadOnlyList<string> Prefixes);

/// <summary>The document <c>auth/roles.json</c>.</summary>
internal sealed record RoleAssignmentsDocument([property: JsonPropertyName("assignments")] IReadOnlyList<RoleAssignment> Assignments);

[JsonSerializable(typeof(RoleAssignmentsDocument))]
[JsonSerializable(typeof(RoleAssignment))]
internal sealed partial class RoleJsonContext : JsonSerializerContext;

/// <summary>
/// Prefix-scoped grants stored in the cluster's container (<c>auth/roles.json</c>, docs/security.md):
/// read through a 10-second cache, changed only by a compare-and-swap on the blob's ETag (create with
/// If-None-Match: *), retried on a lost race.
/// </summary>
internal sealed class RoleAssignmentStore
{
    public const string BlobName = "auth/roles.json";

    /// <summary>How long a read is reused: a new grant or a removal takes effect within this time on every node.</summary>
    public static readonly TimeSpan CacheTime = TimeSpan.FromSeconds(10);

    private const int MaxAttempts = 5;

    private readonly IBlobStore _store;
    private readonly TimeProvider _time;
    private (IReadOnlyList<RoleAssignment> Items, DateTimeOffset Loaded)? _cache;

    public RoleAssignmentStore(IBlobStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
    }

    /// <summary>The grants stored for any of <paramref name="principalIds"/> (cached).</summary>
    public async Task<IReadOnlyList<AccessGrant>> GrantsForAsync(IReadOnlyCollection<string> principalIds, CancellationToken cancellationToken)
    {
        var items = _cache is { } cached && _time.GetUtcNow() - cached.Loaded < CacheTime
            ? cached.Items
            : (await ReadAsync(cancellationToken).ConfigureAwait(false)).Items;
        return [.. items
            .Where(a => principalIds.Contains(a.Principal, StringComparer.OrdinalIgnoreCase))
            .Select(a => AccessGrant.TryParseRole(a.Role, out var role) ? new AccessGrant(role, a.Prefixes) : null)
            .OfType<AccessGrant>()];
    }

    /// <summary>Every assignment, read now, with the blob's ETag (null when there is no blob yet).</summary>
    public async Task<(IReadOnlyList<RoleAssignment> Items, string? ETag)> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            var download = await _store.DownloadAsync(BlobName, BlobRange.All, BlobConditions.None, cancellationToken).ConfigureAwait(false);
            var document = JsonSerializer.Deserialize(download.Content.Span, RoleJsonContext.Default.RoleAssignmentsDocument);
            var items = document?.Assignments ?? [];
            _cache = (items, _time.GetUtcNow());
            return (items, download.Properties.ETag);
        }
        catch (BlobStorageException ex) when (ex.IsNotFound)
        {
            _cache = ([], _time.GetUtcNow());
            return ([], null);
        }
    }

    /// <summary>Applies <paramref name="change"/> to the stored list with a compare-and-swap; returns the list written.</summary>
    /// <exception cref="InvalidOperationException">Other writers won the race <see cref="MaxAttempts"/> times.</exception>
    public async Task<IReadOnlyList<RoleAssignment>> UpdateAsync(Func<IReadOnlyList<RoleAssignment>, IReadOnlyList<RoleAssignment>> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var (items, etag) = await ReadAsync(cancellationToken).ConfigureAwait(false);
            var updated = change(items);
            var content = JsonSerializer.SerializeToUtf8Bytes(new RoleAssignmentsDocument(updated), RoleJsonContext.Default.RoleAssignmentsDocument);
            var conditions = etag is null ? BlobConditions.IfNotExists : BlobConditions.IfMatchETag(etag);
            try
            {
                await _store.PutBlockBlobAsync(BlobName, content, new BlobWriteOptions { ContentType = "application/json", Conditions = conditions }, cancellationToken).ConfigureAwait(false);
                _cache = (updated, _time.GetUtcNow());
                return updated;
            }
            catch (BlobStorageException ex) when (ex.IsPreconditionFailed)
            {
                // Another admin changed the list since the read: read again and re-apply.
            }
        }

        throw new InvalidOperationException($"The role assignments changed under {MaxAttempts} attempts in a row; retry.");
    }
}
