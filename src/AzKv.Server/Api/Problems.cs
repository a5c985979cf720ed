using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace AzKv.Server.Api;

/// <summary>RFC 9457 problem documents with a stable <c>type</c> per error kind (docs/api.md).</summary>
internal static class Problems
{
    public const string TypeBase = "https://azkv.dev/problems/";

    public static IResult InvalidKey(string detail) => Create(400, "invalid-key", "The key is not valid.", detail);

    public static IResult InvalidLabel(string detail) => Create(400, "invalid-label", "The label is not valid.", detail);

    public static IResult InvalidRequest(string detail) => Create(400, "invalid-request", "The request is not valid.", detail);

    public static IResult InvalidIdempotencyKey(string detail) => Create(400, "invalid-idempotency-key", "The Idempotency-Key header is not valid.", detail);

    /// <summary>422: the Idempotency-Key was used for a different request on this key within the window.</summary>
    public static IResult IdempotencyKeyReused(string key) =>
        Create(
            422,
            "idempotency-key-reused",
            "The Idempotency-Key was used for a different request.",
            $"This Idempotency-Key was already used on '{key}' with a different request (operation, body, content type or precondition); use a new key for a new write.");

    public static IResult ValueTooLarge(int limit) =>
        Create(413, "value-too-large", "The value is too large.", $"Values are limited to {limit} bytes (AzKv__Limits__MaxValueBytes).");

    public static IResult NotFound(string key) => Create(404, "not-found", "The key does not exist.", $"No value is stored under '{key}'.");

    /// <summary>400: a snapshot's name, filters or retention are not valid.</summary>
    public static IResult InvalidSnapshot(string detail) => Create(400, "invalid-snapshot", "The snapshot request is not valid.", detail);

    /// <summary>404: no snapshot of that name.</summary>
    public static IResult SnapshotNotFound(string name) => Create(404, "snapshot-not-found", "The snapshot does not exist.", $"There is no snapshot '{name}'.");

    /// <summary>410: the snapshot's retention has passed (the sweep deletes it).</summary>
    public static IResult SnapshotExpired(string name, DateTimeOffset expires) =>
        Create(410, "snapshot-expired", "The snapshot has expired.", $"Snapshot '{name}' expired at {expires:O}; it is deleted by the next sweep.");

    /// <summary>409: a snapshot of that name exists; snapshots are never overwritten.</summary>
    public static IResult SnapshotExists(string name) =>
        Create(409, "snapshot-exists", "A snapshot of that name exists.", $"Snapshot '{name}' exists and snapshots are immutable; choose another name or delete it first.");

    /// <summary>413: the filters select more than a snapshot holds.</summary>
    public static IResult SnapshotTooLarge(string detail) => Create(413, "snapshot-too-large", "The snapshot would be too large.", detail);

    public static IResult ConsoleFileNotFound(string path) => Create(404, "not-found", "The console file does not exist.", $"The console has no file '{path}'.");

    public static IResult UnknownRegion(string detail) => Create(404, "unknown-region", "The region is not a replication source of this node.", detail);

    public static IResult PreconditionFailed(string detail) => Create(412, "precondition-failed", "A precondition failed.", detail);

    public static IResult CursorExpired() =>
        Create(410, "cursor-expired", "The watch cursor is too old.", "Changes after this cursor are no longer retained; list the keys again and watch from now.");

    public static IResult CursorForeign(string region) =>
        Create(
            410,
            "cursor-foreign",
            "The watch cursor belongs to another store.",
            $"The cursor was issued by another region, or by this region's storage before it was created again; its positions mean nothing here (region '{region}'). List the keys again and watch from now.");

    public static IResult Unavailable(string detail, int retryAfterSeconds = 1) =>
        new ProblemResult(new ProblemDocument(TypeBase + "unavailable", "The partition is unavailable.", 503, detail), retryAfterSeconds);

    /// <summary>
    /// 504: the write was sent to storage but its outcome could not be learned; it may or may not
    /// have been applied. Unlike <see cref="Unavailable"/> (a definite no-op), not safe to retry blindly.
    /// </summary>
    public static IResult OutcomeUnknown(string detail) =>
        Create(504, "outcome-unknown", "The outcome of the write is unknown.", detail);

    /// <summary>401: no token, or one that is not valid here; carries <c>WWW-Authenticate: Bearer</c> (RFC 6750).</summary>
    public static IResult Unauthenticated(string? error) =>
        new ProblemResult(
            new ProblemDocument(
                TypeBase + "unauthenticated",
                "A valid bearer token is needed.",
                401,
                error is null
                    ? "Send Authorization: Bearer <token> (azkv up writes an admin token to a file and prints its path; docs/security.md)."
                    : "The bearer token is not valid here: expired, not yet valid, for another audience or issuer, or not signed by a trusted key."),
            null,
            error is null ? "Bearer" : $"Bearer error=\"{error}\"");

    /// <summary>403: the caller is known but its roles do not cover the operation.</summary>
    public static IResult Forbidden(string detail) => Create(403, "forbidden", "The caller may not do this.", detail);

    /// <summary>429: the caller's request rate is over its limit (AzKv__Auth__RequestsPerSecond).</summary>
    public static IResult RateLimited(int retryAfterSeconds) =>
        new ProblemResult(
            new ProblemDocument(TypeBase + "rate-limited", "Too many requests.", 429, "This caller's request rate is over its limit (AzKv__Auth__RequestsPerSecond); retry after the time in Retry-After."),
            retryAfterSeconds);

    public static IResult Internal() =>
        Create(500, "internal", "The server failed unexpectedly.", "The error was logged; retrying may help.");

    /// <summary>An exception escaped an endpoint: storage trouble is 503, anything else 500.</summary>
    public static IResult Unexpected(Exception? error) =>
        error is AzKv.Storage.BlobStorageException or AzKv.Partitions.PartitionStorageException
            ? Unavailable("Storage is not reachable right now; retry.", 2)
            : Internal();

    private static IResult Create(int status, string kind, string title, string detail) =>
        new ProblemResult(new ProblemDocument(TypeBase + kind, title, status, detail), null);

    private sealed class ProblemResult : IResult, IStatusCodeHttpResult
    {
        private readonly ProblemDocument _problem;
        private readonly int? _retryAfter;
        private readonly string? _challenge;

        public ProblemResult(ProblemDocument problem, int? retryAfter, string? challenge = null)
        {
            _problem = problem;
            _retryAfter = retryAfter;
            _challenge = challenge;
        }

        public int? StatusCode => _problem.Status;

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = _problem.Status;
            if (_retryAfter is { } seconds)
            {
                response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            if (_challenge is not null)
            {
                response.Headers.WWWAuthenticate = _challenge;
            }

            var document = _problem with { Instance = httpContext.Request.Path.Value };
            response.ContentType = "application/problem+json";
            await System.Text.Json.JsonSerializer.SerializeAsync(response.Body, document, ApiJson.Context.ProblemDocument, httpContext.RequestAborted)
                .ConfigureAwait(false);
        }
    }
}

/// <summary>An RFC 9457 problem document.</summary>
internal sealed record ProblemDocument(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("status")] int Status,
    [property: JsonPropertyName("detail")] string Detail)
{
    [JsonPropertyName("instance")]
    public string? Instance { get; init; }
}
