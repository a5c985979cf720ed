using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using AzKv.Storage;
using AzKv.Threading;
using Microsoft.Extensions.Logging;

namespace AzKv.Server.Audit;

/// <summary>One audited request (docs/security.md, "Audit").</summary>
/// <param name="Time">When the node answered it.</param>
/// <param name="Principal">The caller's subject (object id for Entra ID), null when it sent no valid token.</param>
/// <param name="ClientId">The caller's client application (<c>azp</c>/<c>appid</c>), or null.</param>
/// <param name="Operation">put, delete, get, list, watch, conflicts, audit, cluster, roles, replication, internal, metrics or other.</param>
/// <param name="Key">The key (key operations) or the prefix (list, watch, conflicts, audit); null otherwise.</param>
/// <param name="Outcome">ok, created, precondition-failed, not-found, idempotency-key-reused, outcome-unknown, unavailable, denied-401, denied-403 or rate-limited.</param>
/// <param name="Node">The node that answered.</param>
/// <param name="Seq">The node's sequence number of the event (orders events of one node within one time).</param>
internal sealed record AuditEvent(DateTimeOffset Time, string? Principal, string? ClientId, string Operation, string? Key, string Outcome, string Node, long Seq);

/// <summary>A page of <see cref="AuditLog.ReadAsync"/>: events newest first, and the cursor of the next page (null on the last).</summary>
internal sealed record AuditPage(IReadOnlyList<AuditEvent> Items, string? Cursor);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AuditEvent))]
internal sealed partial class AuditJsonContext : JsonSerializerContext;

/// <summary>
/// The audit log of a region: every write outcome an owner answered and every refused request (401, 403, 429),
/// as JSON lines in append blobs <c>audit/{yyyyMMddHH}/{node}-{n}.log</c> (one blob per node per hour, UTC). Events
/// are buffered (at most <see cref="MaxBuffered"/>; beyond that they are dropped and counted) and appended at most
/// every <see cref="FlushInterval"/>, and before every read. Every append is conditional on the append position;
/// a blob is created with <c>If-None-Match: *</c>; blobs older than the retention are deleted with <c>If-Match</c>.
/// Tokens never enter an event: only the subject and client id claims of a validated token.
/// </summary>
internal sealed partial class AuditLog : IAsyncDisposable
{
    /// <summary>The blob name prefix.</summary>
    public const string Prefix = "audit/";

    /// <summary>Events held in memory before they are dropped (a flood cannot exhaust memory).</summary>
    internal const int MaxBuffered = 10_000;

    /// <summary>Blocks per blob before the next one is used (the service allows 50,000).</summary>
    private const int MaxBlocksPerBlob = 45_000;

    /// <summary>How often buffered events are appended.</summary>
    internal static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    private readonly IBlobStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _node;
    private readonly TimeSpan _retention;
    private readonly Channel<AuditEvent> _buffer = Channel.CreateBounded<AuditEvent>(new BoundedChannelOptions(MaxBuffered)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<AuditEvent> _pending = [];
    private readonly BackgroundLoop _loop = new();

    /// <summary>The block being built by <see cref="FlushAsync"/> (under <see cref="_gate"/>), reused between flushes.</summary>
    private readonly ArrayBufferWriter<byte> _lines = new(64 * 1024);
    private readonly Utf8JsonWriter _json = new(Stream.Null);
    private int _disposed;
    private readonly Dictionary<string, long> _rateLimitedAt = new(StringComparer.Ordinal);
    private long _seq;
    private long _dropped;
    private string? _blob;
    private string? _blobHour;
    private int _blobIndex;
    private long _length;
    private int _blocks;
    private DateTimeOffset _lastRetention = DateTimeOffset.MinValue;

    public AuditLog(IBlobStore store, TimeProvider time, ILogger<AuditLog> logger, string node, TimeSpan retention)
    {
        _store = store;
        _time = time;
        _logger = logger;
        _node = node;
        _retention = retention;
        _loop.Start(LoopAsync);
    }

    /// <summary>Events dropped because the buffer was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Records one event (never blocks, never throws). A rate-limited refusal is recorded at most once per second per
    /// principal, so a flood is visible without filling the log.
    /// </summary>
    public void Record(string? principal, string? clientId, string operation, string? key, string outcome)
    {
        var now = _time.GetUtcNow();
        if (outcome == AuditOutcomes.RateLimited)
        {
            lock (_rateLimitedAt)
            {
                var who = principal ?? string.Empty;
                if (_rateLimitedAt.TryGetValue(who, out var last) && now.ToUnixTimeMilliseconds() - last < 1000)
                {
                    return;
                }

                if (_rateLimitedAt.Count > 10_000)
                {
                    _rateLimitedAt.Clear();
                }

                _rateLimitedAt[who] = now.ToUnixTimeMilliseconds();
            }
        }

        var item = new AuditEvent(now, principal, clientId, operation, key, outcome, _node, Interlocked.Increment(ref _seq));
        if (!_buffer.Writer.TryWrite(item))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>Appends every buffered event.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Events stay in _pending until their block is appended, so a failed append loses nothing.
            while (_pending.Count < MaxBuffered && _buffer.Reader.TryRead(out var item))
            {
                _pending.Add(item);
            }

            // One block per hour's worth of events (at most ~3 MiB, within the 4 MiB Append Block limit).
            // The lines are serialized as UTF-8 straight into one reused buffer (the same bytes as
            // JsonSerializer.Serialize to a string, without a string, a StringBuilder and a copy per event).
            while (_pending.Count > 0)
            {
                var hour = HourOf(_pending[0].Time);
                var hourNumber = HourNumberOf(_pending[0].Time);
                _lines.ResetWrittenCount();
                var count = 0;
                while (count < _pending.Count && _lines.WrittenCount < 3 * 1024 * 1024 && HourNumberOf(_pending[count].Time) == hourNumber)
                {
                    _json.Reset(_lines);
                    JsonSerializer.Serialize(_json, _pending[count], AuditJsonContext.Default.AuditEvent);
                    _json.Flush();
                    _lines.Write("\n"u8);
                    count++;
                }

                await AppendAsync(hour, _lines.WrittenMemory, cancellationToken).ConfigureAwait(false);
                _pending.RemoveRange(0, count);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The region's events (every node's blobs) at or after <paramref name="since"/> whose key starts with
    /// <paramref name="prefix"/> (events without a key only for the empty prefix), newest first, after
    /// <paramref name="cursor"/>, at most <paramref name="limit"/>. This node's buffer is flushed first.
    /// </summary>
    public async Task<AuditPage> ReadAsync(string prefix, DateTimeOffset since, int limit, AuditCursor? cursor, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        var sinceHour = HourOf(since);
        var found = new List<AuditEvent>();
        var seen = new HashSet<(string Node, long Seq, long Ticks)>();
        string? continuation = null;
        do
        {
            var page = await _store.ListAsync(Prefix, continuation, 1000, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                var hour = item.Name.Length > Prefix.Length + 10 ? item.Name.Substring(Prefix.Length, 10) : string.Empty;
                if (string.CompareOrdinal(hour, sinceHour) < 0 || item.ContentLength == 0)
                {
                    continue;
                }

                BlobDownload download;
                try
                {
                    download = await _store.DownloadAsync(item.Name, BlobRange.All, default, cancellationToken).ConfigureAwait(false);
                }
                catch (BlobStorageException ex) when (ex.IsNotFound || ex.IsInvalidRange)
                {
                    continue;
                }

                foreach (var entry in Parse(download.Content))
                {
                    if (entry.Time >= since
                        && (entry.Key is null ? prefix.Length == 0 : entry.Key.StartsWith(prefix, StringComparison.Ordinal))
                        && (cursor is null || cursor.IsBefore(entry))
                        && seen.Add((entry.Node, entry.Seq, entry.Time.UtcTicks))) // an append retried after a lost answer may repeat lines
                    {
                        found.Add(entry);
                    }
                }
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);

        found.Sort(static (a, b) => AuditCursor.Compare(b, a));
        var items = found.Count > limit ? found.GetRange(0, limit) : found;
        return new AuditPage(items, found.Count > limit ? AuditCursor.From(items[^1]).ToString() : null);
    }

    public async ValueTask DisposeAsync()
    {
        // Idempotent: the host stops it and the container disposes it.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _loop.DisposeAsync().ConfigureAwait(false);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await FlushAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is BlobStorageException or OperationCanceledException or HttpRequestException)
        {
            LogFlushFailed(_logger, ex.Message);
        }

        _gate.Dispose();
        _json.Dispose();
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(FlushInterval, _time, cancellationToken).ConfigureAwait(false);
            try
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
                await RemoveExpiredAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // Storage trouble must not end the loop: the events stay buffered (bounded) for the next round.
                LogFlushFailed(_logger, ex.Message);
            }
        }
    }

    /// <summary>Appends one block to this node's blob of <paramref name="hour"/>, creating it (If-None-Match: *) when needed.</summary>
    private async Task AppendAsync(string hour, ReadOnlyMemory<byte> block, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (_blob is null || _blobHour != hour || _blocks >= MaxBlocksPerBlob)
            {
                _blobIndex = _blobHour == hour ? _blobIndex + 1 : 0;
                _blobHour = hour;
                _blob = string.Create(CultureInfo.InvariantCulture, $"{Prefix}{hour}/{_node}-{_blobIndex:D3}.log");
                try
                {
                    await _store.CreateAppendBlobAsync(
                        _blob, new BlobWriteOptions { ContentType = "application/x-ndjson", Conditions = BlobConditions.IfNotExists }, cancellationToken).ConfigureAwait(false);
                    _length = 0;
                    _blocks = 0;
                }
                catch (BlobStorageException ex) when (ex.IsAlreadyExists || ex.IsPreconditionFailed)
                {
                    // Written before a restart of this node: continue at its end.
                    var properties = await _store.GetPropertiesAsync(_blob, default, cancellationToken).ConfigureAwait(false);
                    _length = properties.ContentLength;
                    _blocks = properties.CommittedBlockCount ?? 0;
                    if (_blocks >= MaxBlocksPerBlob || properties.IsSealed)
                    {
                        continue;
                    }
                }
            }

            try
            {
                var result = await _store.AppendBlockAsync(_blob, block, new AppendConditions { AppendPosition = _length }, cancellationToken).ConfigureAwait(false);
                _length += block.Length;
                _blocks = result.CommittedBlockCount;
                return;
            }
            catch (BlobStorageException ex) when ((ex.IsAppendPositionMismatch || ex.IsNotFound) && attempt < 3)
            {
                // Another process with this node's id appended (or retention removed the blob): find the end again.
                _blob = null;
                _blobIndex--;
            }
        }
    }

    /// <summary>Deletes (If-Match) the blobs of hours older than the retention, at most once an hour.</summary>
    private async Task RemoveExpiredAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (now - _lastRetention < TimeSpan.FromHours(1))
        {
            return;
        }

        _lastRetention = now;
        var cutoff = HourOf(now - _retention);
        string? continuation = null;
        do
        {
            var page = await _store.ListAsync(Prefix, continuation, 1000, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                var hour = item.Name.Length > Prefix.Length + 10 ? item.Name.Substring(Prefix.Length, 10) : string.Empty;
                if (string.CompareOrdinal(hour, cutoff) >= 0)
                {
                    continue;
                }

                try
                {
                    await _store.DeleteAsync(item.Name, BlobConditions.IfMatchETag(item.ETag), cancellationToken).ConfigureAwait(false);
                }
                catch (BlobStorageException ex) when (ex.IsNotFound || ex.IsPreconditionFailed)
                {
                    // Another node removed it, or it changed since the listing (it is retried in an hour).
                }
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
    }

    private static IEnumerable<AuditEvent> Parse(ReadOnlyMemory<byte> content)
    {
        var text = Encoding.UTF8.GetString(content.Span);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            AuditEvent? entry;
            try
            {
                entry = JsonSerializer.Deserialize(line, AuditJsonContext.Default.AuditEvent);
            }
            catch (JsonException)
            {
                continue;
            }

            if (entry is not null)
            {
                yield return entry;
            }
        }
    }

    private static string HourOf(DateTimeOffset time) => time.UtcDateTime.ToString("yyyyMMddHH", CultureInfo.InvariantCulture);

    /// <summary>The UTC hour of <paramref name="time"/> as a number: equal exactly when <see cref="HourOf"/> is (no string per event).</summary>
    private static long HourNumberOf(DateTimeOffset time) => time.UtcTicks / TimeSpan.TicksPerHour;

    [LoggerMessage(EventId = 1701, Level = LogLevel.Warning, Message = "The audit log could not be appended: {Reason}")]
    private static partial void LogFlushFailed(ILogger logger, string reason);
}

/// <summary>The outcome names of <see cref="AuditEvent.Outcome"/>.</summary>
internal static class AuditOutcomes
{
    public const string Ok = "ok";
    public const string Created = "created";
    public const string PreconditionFailed = "precondition-failed";
    public const string NotFound = "not-found";
    public const string IdempotencyKeyReused = "idempotency-key-reused";
    public const string OutcomeUnknown = "outcome-unknown";
    public const string Unavailable = "unavailable";
    public const string Unauthenticated = "denied-401";
    public const string Forbidden = "denied-403";
    public const string RateLimited = "rate-limited";
}

/// <summary>The position after an event in newest-first order: (time, node, seq), sent as unpadded base64url.</summary>
internal sealed record AuditCursor(long TimeTicks, string Node, long Seq)
{
    public static AuditCursor From(AuditEvent e) => new(e.Time.UtcTicks, e.Node, e.Seq);

    /// <summary>Newest-first order: a positive result when <paramref name="a"/> is newer.</summary>
    public static int Compare(AuditEvent a, AuditEvent b)
    {
        var byTime = a.Time.UtcTicks.CompareTo(b.Time.UtcTicks);
        if (byTime != 0)
        {
            return byTime;
        }

        var byNode = string.CompareOrdinal(a.Node, b.Node);
        return byNode != 0 ? byNode : a.Seq.CompareTo(b.Seq);
    }

    /// <summary>True when <paramref name="e"/> comes after this cursor (is older) in newest-first order.</summary>
    public bool IsBefore(AuditEvent e) => Compare(e, new AuditEvent(new DateTimeOffset(TimeTicks, TimeSpan.Zero), null, null, string.Empty, null, string.Empty, Node, Seq)) < 0;

    public override string ToString() =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{TimeTicks}|{Seq}|{Node}"))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryParse(string text, out AuditCursor? cursor)
    {
        cursor = null;
        try
        {
            var padded = text.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - (padded.Length % 4)) % 4);
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(padded)).Split('|', 3);
            if (parts.Length == 3
                && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var seq)
                && parts[2].Length > 0)
            {
                cursor = new AuditCursor(ticks, parts[2], seq);
                return true;
            }
        }
        catch (FormatException)
        {
        }

        return false;
    }
}

/// <summary>The operation names of <see cref="AuditEvent.Operation"/>, by endpoint.</summary>
internal static class AuditOperations
{
    public static string For(string? endpointName, string? path) => endpointName switch
    {
        Api.ApiEndpointNames.GetKey => "get",
        Api.ApiEndpointNames.PutKey => "put",
        Api.ApiEndpointNames.DeleteKey => "delete",
        Api.ApiEndpointNames.ListKeys => "list",
        Api.ApiEndpointNames.Watch => "watch",
        Api.ApiEndpointNames.Cluster => "cluster",
        Api.ApiEndpointNames.Conflicts => "conflicts",
        Api.ApiEndpointNames.Audit => "audit",
        Api.ApiEndpointNames.Metrics => "metrics",
        Api.ApiEndpointNames.PauseReplication or Api.ApiEndpointNames.ResumeReplication => "replication",
        Api.ApiEndpointNames.ListRoles or Api.ApiEndpointNames.AssignRole or Api.ApiEndpointNames.RemoveRole => "roles",
        Api.ApiEndpointNames.CreateSnapshot => "snapshot-create",
        Api.ApiEndpointNames.DeleteSnapshot => "snapshot-delete",
        Api.ApiEndpointNames.ListSnapshots or Api.ApiEndpointNames.GetSnapshot or Api.ApiEndpointNames.GetSnapshotItems => "snapshot-read",
        _ when path is not null && path.StartsWith("/v1/internal/", StringComparison.Ordinal) => "internal",
        _ => "other",
    };
}
