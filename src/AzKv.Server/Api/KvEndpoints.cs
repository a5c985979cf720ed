using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using AzKv.Cluster;
using AzKv.Keys;
using AzKv.Partitions;
using AzKv.Server.Audit;
using AzKv.Server.Hosting;
using AzKv.Server.Node;
using AzKv.Server.Security;
using AzKv.Versioning;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace AzKv.Server.Api;

/// <summary><c>/v1/kv/{key}</c>: get, put, delete (docs/api.md).</summary>
internal static class KvEndpoints
{
    /// <summary>The request header that makes a PUT/DELETE exactly-once across retries (docs/api.md).</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>The response header of a GET naming who last wrote the key (docs/api.md).</summary>
    public const string LastWriterHeader = "AzKv-Last-Writer";

    public static void MapKvEndpoints(this IEndpointRouteBuilder app)
    {
        var kv = app.MapGroup("/v1/kv").WithTags("kv");
        kv.MapGet("/{**key}", GetAsync).WithName(ApiEndpointNames.GetKey);
        kv.MapPut("/{**key}", PutAsync).WithName(ApiEndpointNames.PutKey);
        kv.MapDelete("/{**key}", DeleteAsync).WithName(ApiEndpointNames.DeleteKey);
    }

    /// <summary>
    /// The hot read path: served from the partition's in-memory snapshot, allocating nothing of
    /// its own beyond the key (ValueTask, the body written here instead of a result object).
    /// </summary>
    private static async ValueTask<IResult> GetAsync(HttpContext context, NodeSupervisor host, Forwarder forwarder)
    {
        if (!TryResolve(context, host, out var key, out var entry, out var owner, out var problem))
        {
            return await ForwardOrFailAsync(context, host, forwarder, key, problem!).ConfigureAwait(false);
        }

        if (!owner!.TryGetState(out var state))
        {
            return Problems.Unavailable($"Partition {owner.Partition} is changing owner.");
        }

        // The one read model (SiblingSet.View), as LIST, watch and the writer's preconditions see it.
        var set = state.Get(entry!);
        var view = set is null ? ReadView.Absent : set.View(host.ConflictPolicies.For(key!));
        if (view.Kind == ReadViewKind.Siblings)
        {
            return Siblings(context, key!, Labels.LabelOf(entry!), set!, view);
        }

        if (view.Value is not { } winner)
        {
            return Problems.NotFound(Display(entry!));
        }

        // The context's ETag is built once per version vector and cached there.
        var etag = set!.Context.ToETag();
        var response = context.Response;
        if (state.GetLastWrite(key!) is { } last)
        {
            response.Headers[LastWriterHeader] = last.Writer.Subject;
            response.Headers.LastModified = last.Time.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        }

        var ifNoneMatch = context.Request.Headers.IfNoneMatch;
        if (!StringValues.IsNullOrEmpty(ifNoneMatch) && MatchesAny(ifNoneMatch, etag))
        {
            response.Headers.ETag = etag;
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        // What Results.Bytes(value, contentType) writes (no ranges, no validators), minus its
        // per-request logger lookup, typed-header parsing and result object.
        response.Headers.ETag = etag;
        response.ContentType = winner.ContentType;
        response.ContentLength = winner.Value.Length;
        try
        {
            await response.Body.WriteAsync(winner.Value, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client went away (as Results.Bytes does: no exception, and never a truncated 200).
            context.Abort();
        }

        return Results.Empty;
    }

    /// <remarks>
    /// The hot write path: the owner's write is a <see cref="ValueTask{TResult}"/> backed by the pending write, and the answer is serialized
    /// into a reused per-thread buffer and copied into the response (<see cref="WriteCommittedAsync"/>).
    /// </remarks>
    private static async Task<IResult> PutAsync(HttpContext context, NodeSupervisor host, ServerOptions options, Forwarder forwarder)
    {
        // Checked before anything else (and before forwarding): a bad request never reaches the owner.
        if (!TryGetIdempotencyKey(context, out var idempotencyKey, out var badKey))
        {
            return badKey!;
        }

        if (!TryResolve(context, host, out var key, out var entry, out var owner, out var problem))
        {
            return await ForwardOrFailAsync(context, host, forwarder, key, problem!).ConfigureAwait(false);
        }

        if (BootstrappingProblem(host, owner!) is { } bootstrapping)
        {
            return bootstrapping;
        }

        var contentType = context.Request.ContentType ?? "application/octet-stream";
        if (!VersionedValue.IsValidContentType(contentType) || contentType.Length == 0)
        {
            return Problems.InvalidRequest("Content-Type must be 1–255 characters of printable ASCII.");
        }

        if (!TryGetPrecondition(context, allowCreateOnly: true, out var precondition, out var ifMatch, out problem))
        {
            return problem!;
        }

        var limit = options.Limits.MaxValueBytes;
        if (context.Request.ContentLength > limit)
        {
            return Problems.ValueTooLarge(limit);
        }

        var value = await ReadBodyAsync(context.Request, limit, context.RequestAborted).ConfigureAwait(false);
        if (value is null)
        {
            return Problems.ValueTooLarge(limit);
        }

        var outcome = await owner!.WriteAsync(
            new WriteCommand { Key = entry!, Value = value, ContentType = contentType, Precondition = precondition, IfMatch = ifMatch, IdempotencyKey = idempotencyKey, Writer = Writer(context) },
            context.RequestAborted).ConfigureAwait(false);
        RecordWrite(context, "put", key!, outcome);
        switch (outcome.Status)
        {
            case WriteStatus.Committed:
                await WriteCommittedAsync(
                    context,
                    outcome.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK,
                    outcome.ETag!,
                    new PutResponse(key!, outcome.ETag!, outcome.Created) { Label = Labels.LabelOf(entry!) }).ConfigureAwait(false);
                return Results.Empty;
            case WriteStatus.PreconditionFailed:
                return Problems.PreconditionFailed(precondition == PreconditionKind.IfNoneMatchAny
                    ? $"{Display(entry!)} already exists."
                    : $"The current ETag of {Display(entry!)} does not match If-Match.");
            case WriteStatus.OutcomeUnknown:
                return Problems.OutcomeUnknown(UnknownDetail(owner.Partition, Display(entry!)));
            case WriteStatus.IdempotencyKeyReused:
                return Problems.IdempotencyKeyReused(Display(entry!));
            default:
                return Problems.Unavailable($"Partition {owner.Partition} could not commit the write; retry.");
        }
    }

    private static async Task<IResult> DeleteAsync(HttpContext context, NodeSupervisor host, Forwarder forwarder)
    {
        // Checked before anything else (and before forwarding): a bad request never reaches the owner.
        if (!TryGetIdempotencyKey(context, out var idempotencyKey, out var badKey))
        {
            return badKey!;
        }

        if (!TryResolve(context, host, out var key, out var entry, out var owner, out var problem))
        {
            return await ForwardOrFailAsync(context, host, forwarder, key, problem!).ConfigureAwait(false);
        }

        if (BootstrappingProblem(host, owner!) is { } bootstrapping)
        {
            return bootstrapping;
        }

        if (!TryGetPrecondition(context, allowCreateOnly: false, out var precondition, out var ifMatch, out problem))
        {
            return problem!;
        }

        var outcome = await owner!.WriteAsync(
            new WriteCommand { Key = entry!, Kind = WriteKind.Delete, Precondition = precondition, IfMatch = ifMatch, IdempotencyKey = idempotencyKey, Writer = Writer(context) },
            context.RequestAborted).ConfigureAwait(false);
        RecordWrite(context, "delete", key!, outcome);
        return outcome.Status switch
        {
            WriteStatus.Committed => NoContent(context, outcome.ETag),
            WriteStatus.NotFound => Problems.NotFound(Display(entry!)),
            WriteStatus.PreconditionFailed => Problems.PreconditionFailed($"The current ETag of {Display(entry!)} does not match If-Match."),
            WriteStatus.OutcomeUnknown => Problems.OutcomeUnknown(UnknownDetail(owner.Partition, Display(entry!))),
            WriteStatus.IdempotencyKeyReused => Problems.IdempotencyKeyReused(Display(entry!)),
            _ => Problems.Unavailable($"Partition {owner.Partition} could not commit the delete; retry."),
        };
    }

    /// <summary>
    /// Who makes a write: the caller the access check authenticated here, at the owner. A forwarded request carries
    /// the caller's own Authorization header and is authenticated again by the owner, so this is the original caller,
    /// never the forwarding node.
    /// </summary>
    private static AzKv.Wal.WriterIdentity? Writer(HttpContext context) => AccessControl.PrincipalOf(context)?.Writer;

    /// <summary>Records a write's outcome in the audit log (at the owner, which answered it).</summary>
    private static void RecordWrite(HttpContext context, string operation, string key, WriteOutcome outcome)
    {
        if (context.RequestServices.GetService<AuditLog>() is not { } audit || outcome.Status == WriteStatus.NotOwner)
        {
            return;
        }

        var principal = AccessControl.PrincipalOf(context);
        audit.Record(principal?.Subject, principal?.ClientId, operation, key, outcome.Status switch
        {
            WriteStatus.Committed => outcome.Created && operation == "put" ? AuditOutcomes.Created : AuditOutcomes.Ok,
            WriteStatus.PreconditionFailed => AuditOutcomes.PreconditionFailed,
            WriteStatus.NotFound => AuditOutcomes.NotFound,
            WriteStatus.IdempotencyKeyReused => AuditOutcomes.IdempotencyKeyReused,
            WriteStatus.OutcomeUnknown => AuditOutcomes.OutcomeUnknown,
            _ => AuditOutcomes.Unavailable,
        });
    }

    /// <summary>
    /// The <c>Idempotency-Key</c> header: absent (null), or one value of 1–128 visible ASCII characters; anything
    /// else is a 400 naming the header.
    /// </summary>
    private static bool TryGetIdempotencyKey(HttpContext context, out string? key, out IResult? problem)
    {
        key = null;
        problem = null;
        if (!context.Request.Headers.TryGetValue(IdempotencyKeyHeader, out var values))
        {
            return true;
        }

        if (values.Count != 1 || !IdempotencyKeys.IsValid(values[0]))
        {
            problem = Problems.InvalidIdempotencyKey(
                $"The {IdempotencyKeyHeader} header must be one value of 1–{IdempotencyKeys.MaxLength} visible ASCII characters (0x21–0x7E).");
            return false;
        }

        key = values[0];
        return true;
    }

    /// <summary>204 for a committed delete (with the key's new ETag, so a retry answers the same).</summary>
    private static IResult NoContent(HttpContext context, string? etag)
    {
        if (etag is not null)
        {
            context.Response.Headers.ETag = etag;
        }

        return Results.NoContent();
    }

    private static string UnknownDetail(int partition, string display) =>
        $"Partition {partition} sent the write to storage but could not learn whether it landed; read {display} before retrying a conditional write.";

    /// <summary>An entry as problem details name it: <c>'key'</c>, or <c>'key' (label 'dev')</c>.</summary>
    private static string Display(string entry) =>
        Labels.LabelOf(entry) is { } label ? $"'{Labels.KeyOf(entry)}' (label '{label}')" : $"'{entry}'";

    /// <summary>
    /// A valid key whose partition is not served here goes to its owner (once); anything else is
    /// answered with <paramref name="problem"/>.
    /// </summary>
    private static async Task<IResult> ForwardOrFailAsync(HttpContext context, NodeSupervisor host, Forwarder forwarder, string? key, IResult problem)
    {
        if (key is null || host.PartitionCount == 0 || !KeyValidation.IsValid(key))
        {
            return problem;
        }

        var partition = host.PartitionOf(key);
        if (host.Slots[partition].Owner is { StopReason: null })
        {
            return problem; // ours, but the lease is not certain right now: 503, retry
        }

        await forwarder.ForwardAsync(context, partition).ConfigureAwait(false);
        return Results.Empty;
    }

    /// <summary>Validates the key and finds the partition's serving owner.</summary>
    private static bool TryResolve(HttpContext context, NodeSupervisor host, out string? key, out string? entry, out PartitionOwner? owner, out IResult? problem)
    {
        owner = null;
        entry = null;
        key = GetKey(context, out var error);
        if (key is null)
        {
            problem = Problems.InvalidKey(error!);
            return false;
        }

        var validation = KeyValidation.Validate(key);
        if (!validation.IsValid)
        {
            problem = Problems.InvalidKey(validation.Message);
            return false;
        }

        if (!LabelQuery.TryGetLabel(context, out var label, out problem))
        {
            key = null; // never forwarded: the label is checked here, before any other node sees it
            return false;
        }

        // The one identity rule: (key, label) names an entry; the key alone picks the partition.
        entry = Labels.EntryKey(key, label);
        if (host.PartitionCount == 0)
        {
            problem = Problems.Unavailable("The node is starting.");
            return false;
        }

        var partition = host.PartitionOf(key);
        owner = host.ServingOwner(partition);
        if (owner is null)
        {
            problem = Problems.Unavailable($"Partition {partition} has no serving owner yet.");
            return false;
        }

        problem = null;
        return true;
    }

    private static bool TryGetPrecondition(
        HttpContext context, bool allowCreateOnly, out PreconditionKind kind, out VersionVector? ifMatch, out IResult? problem)
    {
        kind = PreconditionKind.None;
        ifMatch = null;
        problem = null;
        var headers = context.Request.Headers;
        var match = headers.IfMatch;
        var noneMatch = headers.IfNoneMatch;
        if (!StringValues.IsNullOrEmpty(match) && !StringValues.IsNullOrEmpty(noneMatch))
        {
            problem = Problems.InvalidRequest("Send If-Match or If-None-Match, not both.");
            return false;
        }

        if (!StringValues.IsNullOrEmpty(noneMatch))
        {
            if (!allowCreateOnly || noneMatch.ToString().Trim() != "*")
            {
                problem = Problems.InvalidRequest("Only 'If-None-Match: *' (create only) is supported on PUT.");
                return false;
            }

            kind = PreconditionKind.IfNoneMatchAny;
            return true;
        }

        if (!StringValues.IsNullOrEmpty(match))
        {
            var value = match.ToString().Trim();
            if (value == "*")
            {
                kind = PreconditionKind.IfExists;
                return true;
            }

            if (value.Contains(',', StringComparison.Ordinal))
            {
                problem = Problems.InvalidRequest("If-Match takes one ETag.");
                return false;
            }

            kind = PreconditionKind.IfMatch;

            // An ETag this server could never have issued matches nothing: the write fails with 412.
            ifMatch = VersionVector.TryParseETag(value, out var parsed) ? parsed : null;
        }

        return true;
    }

    /// <summary>
    /// Local writes wait while the partition reads a peer region's log for the first time (a region
    /// rebuilt from scratch must learn its own past writes first; docs/replication.md): a 503, or null.
    /// </summary>
    private static IResult? BootstrappingProblem(NodeSupervisor host, PartitionOwner owner) =>
        host.CatchingUpWith(owner.Partition) is { } source
            ? Problems.Unavailable($"Partition {owner.Partition} is still reading region {source}'s log for the first time (this region's replication is bootstrapping); retry shortly.")
            : null;

    /// <summary>
    /// <c>300 Multiple Choices</c> (policy <c>siblings</c>, concurrent versions): every live version and
    /// the one context ETag a PUT with <c>If-Match</c> resolves them with.
    /// </summary>
    private static IResult Siblings(HttpContext context, string key, string? label, SiblingSet set, ReadView view)
    {
        var etag = set.Context.ToETag();
        context.Response.Headers.ETag = etag;
        var versions = view.Siblings
            .Select(v => new SiblingVersion(v.ContentType, Convert.ToBase64String(v.Value.Span), v.Dot.Region, v.Hlc))
            .ToList();
        return Results.Json(new SiblingsResponse(key, etag, versions) { Label = label }, ApiJson.Context.SiblingsResponse, statusCode: StatusCodes.Status300MultipleChoices);
    }

    /// <summary>
    /// What <c>Results.Json(body, typeInfo, statusCode)</c> writes (the same bytes and content type), with
    /// a Content-Length instead of a chunked body and without its per-request logger lookup. The JSON is
    /// serialized into a per-thread buffer and copied into the response's pipe before the first await,
    /// so no array is allocated per answer.
    /// </summary>
    private static ValueTask WriteCommittedAsync(HttpContext context, int status, string etag, PutResponse body)
    {
        var buffer = t_json ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        var writer = t_jsonWriter ??= new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Encoder = ApiJson.Context.Options.Encoder,
            Indented = ApiJson.Context.Options.WriteIndented,
        });
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, body, ApiJson.Context.PutResponse);
        writer.Flush();

        var response = context.Response;
        response.StatusCode = status;
        response.Headers.ETag = etag;
        response.ContentType = JsonContentType;
        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan);
        var flush = response.BodyWriter.FlushAsync(context.RequestAborted);
        return flush.IsCompletedSuccessfully ? ValueTask.CompletedTask : AwaitFlushAsync(context, flush);

        static async ValueTask AwaitFlushAsync(HttpContext context, ValueTask<FlushResult> flush)
        {
            try
            {
                await flush.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The client went away (as Results.Json does: no exception).
                context.Abort();
            }
        }
    }

    private const string JsonContentType = "application/json; charset=utf-8";

    /// <summary>The answer of a committed write, serialized on this thread (<see cref="WriteCommittedAsync"/>); never held across an await.</summary>
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_json;

    [ThreadStatic]
    private static Utf8JsonWriter? t_jsonWriter;

    /// <summary>
    /// The key of the request: a target of plain printable ASCII after <c>/v1/kv/</c> (no escapes,
    /// no query) is the key as it is, which is what <see cref="KeyPath.TryGetKey"/> decodes it to;
    /// anything else goes through the full decoder.
    /// </summary>
    private static string? GetKey(HttpContext context, out string? error)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (raw is not null && raw.Length > KeyPath.Prefix.Length && raw.StartsWith(KeyPath.Prefix, StringComparison.Ordinal))
        {
            var rest = raw.AsSpan(KeyPath.Prefix.Length);
            if (!rest.ContainsAnyExceptInRange((char)0x20, (char)0x7E) && !rest.ContainsAny('%', '?'))
            {
                error = null;
                return raw[KeyPath.Prefix.Length..];
            }
        }

        return KeyPath.TryGetKey(context, out error);
    }

    private static bool MatchesAny(StringValues header, string etag)
    {
        foreach (var value in header)
        {
            foreach (var part in (value ?? string.Empty).Split(','))
            {
                var candidate = part.Trim();
                if (candidate == "*" || string.Equals(candidate, etag, StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Reads the body into an exact-size array the engine may keep; null when it exceeds <paramref name="limit"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } length)
        {
            var exact = new byte[length];
            await request.Body.ReadExactlyAsync(exact, cancellationToken).ConfigureAwait(false);
            return exact;
        }

        var rented = ArrayPool<byte>.Shared.Rent(Math.Min(limit + 1, 64 * 1024));
        try
        {
            var total = 0;
            while (true)
            {
                if (total == rented.Length)
                {
                    if (rented.Length > limit)
                    {
                        return null;
                    }

                    var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(rented.Length * 2, limit + 1));
                    Buffer.BlockCopy(rented, 0, bigger, 0, total);
                    ArrayPool<byte>.Shared.Return(rented);
                    rented = bigger;
                }

                var read = await request.Body.ReadAsync(rented.AsMemory(total), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                total += read;
                if (total > limit)
                {
                    return null;
                }
            }

            return rented.AsSpan(0, total).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
