namespace AzKv.Client;

/// <summary>The stable problem <c>type</c> URIs of the AzKv API (docs/api.md, "Problem types").</summary>
public static class AzKvProblemTypes
{
    /// <summary>The common prefix of every AzKv problem type.</summary>
    public const string Prefix = "https://azkv.dev/problems/";

    /// <summary>400: empty, too long, control characters or malformed encoding.</summary>
    public const string InvalidKey = Prefix + "invalid-key";

    /// <summary>A label is not valid (400): empty, over 256 bytes, a control character, <c>*</c> or <c>,</c>.</summary>
    public const string InvalidLabel = Prefix + "invalid-label";

    /// <summary>400: a bad query parameter, header or cursor.</summary>
    public const string InvalidRequest = Prefix + "invalid-request";

    /// <summary>413: the body is over the value limit.</summary>
    public const string ValueTooLarge = Prefix + "value-too-large";

    /// <summary>404: the key is absent or deleted.</summary>
    public const string NotFound = Prefix + "not-found";

    /// <summary>412: <c>If-Match</c> / <c>If-None-Match</c> did not hold.</summary>
    public const string PreconditionFailed = Prefix + "precondition-failed";

    /// <summary>410: the watch cursor is older than the retained change history.</summary>
    public const string CursorExpired = Prefix + "cursor-expired";

    /// <summary>410: the watch cursor was issued by another store (another region, or storage that was wiped and created again).</summary>
    public const string CursorForeign = Prefix + "cursor-foreign";

    /// <summary>503: no serving owner for the partition right now, or storage unreachable. Nothing was written.</summary>
    public const string Unavailable = Prefix + "unavailable";

    /// <summary>504: a write reached storage but its outcome is unknown; it may or may not have been applied.</summary>
    public const string OutcomeUnknown = Prefix + "outcome-unknown";

    /// <summary>422: the write's Idempotency-Key was already used on this key with a different request. Nothing was written.</summary>
    public const string IdempotencyKeyReused = Prefix + "idempotency-key-reused";

    /// <summary>400: the Idempotency-Key header is not 1–128 visible ASCII characters.</summary>
    public const string InvalidIdempotencyKey = Prefix + "invalid-idempotency-key";

    /// <summary>409: a snapshot of that name exists.</summary>
    public const string SnapshotExists = Prefix + "snapshot-exists";

    /// <summary>404: no snapshot of that name.</summary>
    public const string SnapshotNotFound = Prefix + "snapshot-not-found";

    /// <summary>410: the snapshot's retention has passed.</summary>
    public const string SnapshotExpired = Prefix + "snapshot-expired";

    /// <summary>400: a snapshot's name, filters or retention are not valid.</summary>
    public const string InvalidSnapshot = Prefix + "invalid-snapshot";

    /// <summary>413: the filters select more than a snapshot holds.</summary>
    public const string SnapshotTooLarge = Prefix + "snapshot-too-large";
}
