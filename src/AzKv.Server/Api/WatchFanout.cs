using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using AzKv.Partitions;

namespace AzKv.Server.Api;

/// <summary>
/// The node's SSE watch fan-out (issue 18). Every stream that has caught up with the node joins it;
/// one dispatcher then reads each new change once, encodes its event once (the bytes are shared),
/// and writes them to the response of every stream whose prefix matches. A joined stream costs no
/// task, timer or buffer of its own while idle: its request waits on one completion; the only
/// per-stream buffer is Kestrel's response pipe, which is also the bound on a slow reader.
/// </summary>
/// <remarks>
/// <para>
/// Every joined stream is at the same position, <see cref="Positions"/>: the LSN the dispatcher
/// has reached in each partition (matching or not, every stream has moved past every change the
/// dispatcher handled). So an event's id, the cursor right after it, is the same for every stream
/// that receives it. A stream joins only at exactly that position (<see cref="TryJoin"/>); a
/// stream behind it catches up from the change feeds first, up to a target the hub hands out.
/// </para>
/// <para>
/// A stream whose response pipe does not flush at once (the client does not read and Kestrel's
/// response buffer is full) leaves the fan-out at once: the dispatcher never waits for it. Its
/// request then waits for what is buffered to drain and ends the stream with a <c>resume</c>
/// event whose id is the position the stream reached, so an SSE client reconnects with
/// <c>Last-Event-ID</c> and catches up from the change feed, missing nothing. The same clean end
/// comes when a partition stops being served here or the node stops.
/// </para>
/// </remarks>
internal sealed class WatchFanout : IDisposable
{
    /// <summary>Changes the dispatcher takes from one partition per round.</summary>
    private const int MaxChangesPerRound = 1000;

    /// <summary>Events that may wait behind a flush under way before a stream is let go (references to shared frames).</summary>
    internal const int MaxQueuedFrames = 1024;

    /// <summary>Streams above which a round's writes are spread over the cores.</summary>
    private const int ParallelThreshold = 512;

    private static readonly Frame KeepAliveFrame = new(": keep-alive\n\n"u8.ToArray(), null, null);

    private readonly object _gate = new();
    private readonly IReadOnlyList<ChangeFeed> _feeds;
    private readonly Func<int, bool> _servedHere;
    private readonly ulong _storeTag;
    private readonly TimeProvider _time;
    private readonly TimeSpan _keepAlive;
    private readonly long[] _positions;
    private readonly Dictionary<string, List<Subscription>> _byPrefix = new(StringComparer.Ordinal);
    private readonly List<Change> _buffer = [];
    private readonly List<Frame> _frames = [];
    private readonly CancellationTokenSource _stopping = new();
    private Task? _dispatcher;
    private int _count;
    private long _framesEncoded;
    private bool _stopped;

    /// <summary>Creates a fan-out over <paramref name="feeds"/> (one per partition), starting at their newest changes.</summary>
    /// <param name="feeds">The change feed of every partition, by partition number.</param>
    /// <param name="servedHere">Whether this node serves a partition now; streams end (resumably) when one is not.</param>
    /// <param name="storeTag">The store's cursor tag (<see cref="WatchCursor"/>).</param>
    /// <param name="time">The clock for keep-alive comments.</param>
    /// <param name="keepAlive">How often every stream gets a <c>: keep-alive</c> comment.</param>
    public WatchFanout(IReadOnlyList<ChangeFeed> feeds, Func<int, bool> servedHere, ulong storeTag, TimeProvider time, TimeSpan keepAlive)
    {
        _feeds = feeds;
        _servedHere = servedHere;
        _storeTag = storeTag;
        _time = time;
        _keepAlive = keepAlive;
        _positions = feeds.Select(f => f.LastLsn).ToArray();
    }

    /// <summary>Why a joined stream left the fan-out.</summary>
    public enum EndReason
    {
        /// <summary>The client did not read fast enough: its response buffer was full.</summary>
        Overflow,

        /// <summary>A partition is no longer served on this node.</summary>
        Moved,

        /// <summary>The node is stopping.</summary>
        Stopping,

        /// <summary>The change feed no longer holds the changes after the stream's position.</summary>
        Expired,
    }

    /// <summary>Streams joined now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    /// <summary>Change events encoded so far (each once, whatever the number of streams it went to).</summary>
    public long FramesEncoded => Interlocked.Read(ref _framesEncoded);

    /// <summary>A copy of the position every joined stream is at.</summary>
    public long[] Positions
    {
        get
        {
            lock (_gate)
            {
                return (long[])_positions.Clone();
            }
        }
    }

    /// <summary>
    /// Joins a stream that is at <paramref name="positions"/> and writes to <paramref name="writer"/>.
    /// Succeeds only when it is exactly at the fan-out's position; otherwise <paramref name="target"/>
    /// is that position: catch up to it (never past it) from the change feeds and try again.
    /// </summary>
    public bool TryJoin(string prefix, long[] positions, PipeWriter writer, [NotNullWhen(true)] out Subscription? subscription, out long[] target)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(positions);
        ArgumentNullException.ThrowIfNull(writer);
        lock (_gate)
        {
            target = (long[])_positions.Clone();
            subscription = null;
            if (_stopped)
            {
                return false;
            }

            // Running from the first attempt on: a stream ahead of the position waits for it to move.
            _dispatcher ??= Task.Run(() => DispatchAsync(_stopping.Token));
            if (!positions.AsSpan().SequenceEqual(_positions))
            {
                return false;
            }

            subscription = new Subscription(this, prefix, writer, WatchCursor.Encode(_storeTag, _positions));
            if (!_byPrefix.TryGetValue(prefix, out var list))
            {
                _byPrefix[prefix] = list = [];
            }

            list.Add(subscription);
            _count++;
            return true;
        }
    }

    /// <summary>Ends every stream (resumably) and stops the dispatcher.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stopped = true;
            EndAll(EndReason.Stopping);
        }

        _stopping.Cancel();
        _stopping.Dispose();
    }

    /// <summary>The <c>resume</c> event that ends a stream: its id is the cursor to reconnect with.</summary>
    internal static byte[] ResumeFrame(string cursor, EndReason reason) =>
        Encoding.UTF8.GetBytes("event: resume\nid: " + cursor + "\ndata: {\"cursor\":\"" + cursor + "\",\"reason\":\"" + Name(reason) + "\"}\n\n");

    /// <summary>One change event, as every stream sends it.</summary>
    internal static byte[] ChangeFrame(Change change, string cursor)
    {
        var json = JsonSerializer.Serialize(ToWatchChange(change), ApiJson.Context.WatchChange);
        return Encoding.UTF8.GetBytes("event: change\nid: " + cursor + "\ndata: " + json + "\n\n");
    }

    internal static WatchChange ToWatchChange(Change change) => WatchChange.For(change);

    internal static byte[] ExpiredFrame() =>
        Encoding.UTF8.GetBytes("event: error\ndata: {\"type\":\"" + Problems.TypeBase + "cursor-expired\"}\n\n");

    private static string Name(EndReason reason) => reason switch
    {
        EndReason.Overflow => "overflow",
        EndReason.Moved => "moved",
        EndReason.Expired => "expired",
        _ => "stopping",
    };

    private async Task DispatchAsync(CancellationToken cancellationToken)
    {
        var waits = new List<Task>(_feeds.Count);
        var nextKeepAlive = _time.GetTimestamp() + (long)(_keepAlive.TotalSeconds * _time.TimestampFrequency);
        while (!cancellationToken.IsCancellationRequested)
        {
            waits.Clear();
            lock (_gate)
            {
                for (var p = 0; p < _feeds.Count; p++)
                {
                    waits.Add(_feeds[p].WaitAfterAsync(_positions[p], CancellationToken.None));
                }
            }

            var untilKeepAlive = TimeSpan.FromSeconds(Math.Max(0, (double)(nextKeepAlive - _time.GetTimestamp()) / _time.TimestampFrequency));
            try
            {
                await Task.WhenAny(waits).WaitAsync(untilKeepAlive, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Keep-alive time: below.
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            lock (_gate)
            {
                DispatchRound();
                if (_time.GetTimestamp() >= nextKeepAlive)
                {
                    // Every stream, also those whose prefix saw no change: proxies close idle connections.
                    Broadcast([KeepAliveFrame]);
                    nextKeepAlive = _time.GetTimestamp() + (long)(_keepAlive.TotalSeconds * _time.TimestampFrequency);
                }
            }
        }
    }

    /// <summary>Under the gate: moves the position past every new change, writing each event once to every matching stream.</summary>
    private void DispatchRound()
    {
        _frames.Clear();
        for (var p = 0; p < _feeds.Count; p++)
        {
            if (!_servedHere(p))
            {
                // Served elsewhere now: joined streams end and resume through a node that polls the owner.
                EndAll(EndReason.Moved);
                _positions[p] = _feeds[p].LastLsn;
                continue;
            }

            _buffer.Clear();
            if (!_feeds[p].TryRead(_positions[p], string.Empty, MaxChangesPerRound, _buffer, out var next))
            {
                // The feed moved on without us (a gap after a re-open): the streams' cursors expired.
                EndAll(EndReason.Expired);
                _positions[p] = _feeds[p].LastLsn;
                continue;
            }

            foreach (var change in _buffer)
            {
                _positions[p] = change.Lsn;
                if (_count == 0 || !AnyPrefixMatches(change.Key))
                {
                    continue;
                }

                Interlocked.Increment(ref _framesEncoded);
                var cursor = WatchCursor.Encode(_storeTag, _positions);
                _frames.Add(new Frame(ChangeFrame(change, cursor), cursor, change.Key));
            }

            _positions[p] = _buffer.Count >= MaxChangesPerRound ? _buffer[^1].Lsn : next;
        }

        // Every stream gets the round's events in one write and one flush.
        Broadcast(_frames);
        _frames.Clear();
    }

    private bool AnyPrefixMatches(string key)
    {
        foreach (var prefix in _byPrefix.Keys)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Under the gate: writes the frames to every stream whose prefix they match (comments to all), in order.</summary>
    private void Broadcast(List<Frame> frames)
    {
        if (frames.Count == 0 || _count == 0)
        {
            return;
        }

        var overflowed = new System.Collections.Concurrent.ConcurrentQueue<Subscription>();
        foreach (var (prefix, list) in _byPrefix)
        {
            var mine = frames.Where(f => f.Key is null || f.Key.StartsWith(prefix, StringComparison.Ordinal)).ToArray();
            if (mine.Length == 0)
            {
                continue;
            }

            if (list.Count < ParallelThreshold)
            {
                foreach (var subscription in list)
                {
                    if (!subscription.Offer(mine))
                    {
                        overflowed.Enqueue(subscription);
                    }
                }

                continue;
            }

            var slices = Environment.ProcessorCount * 4;
            Parallel.For(0, slices, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, slice =>
            {
                for (var i = slice * list.Count / slices; i < (slice + 1) * list.Count / slices; i++)
                {
                    if (!list[i].Offer(mine))
                    {
                        overflowed.Enqueue(list[i]);
                    }
                }
            });
        }

        foreach (var subscription in overflowed)
        {
            Leave(subscription, EndReason.Overflow);
        }
    }

    /// <summary>Under the gate.</summary>
    private void EndAll(EndReason reason)
    {
        foreach (var list in _byPrefix.Values.ToList())
        {
            foreach (var subscription in list.ToList())
            {
                Leave(subscription, reason);
            }
        }
    }

    /// <summary>Under the gate: removes a stream and tells its request why, with the cursor it reached.</summary>
    private void Leave(Subscription subscription, EndReason reason)
    {
        if (!Remove(subscription))
        {
            return;
        }

        subscription.End(reason);
    }

    private bool Remove(Subscription subscription)
    {
        if (!_byPrefix.TryGetValue(subscription.Prefix, out var list) || !list.Remove(subscription))
        {
            return false;
        }

        if (list.Count == 0)
        {
            _byPrefix.Remove(subscription.Prefix);
        }

        _count--;
        return true;
    }

    /// <summary>
    /// One joined stream: its prefix, its response writer, and how it ended. While its response
    /// flushes at once it holds nothing; while a flush is under way the events for it wait in a
    /// list of references to the shared frames (at most <see cref="MaxQueuedFrames"/>), written by
    /// one drain task when the flush completes.
    /// </summary>
    internal sealed class Subscription : IDisposable
    {
        private readonly WatchFanout _fanout;
        private readonly PipeWriter _writer;
        private readonly TaskCompletionSource<Ending> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private List<Frame>? _queue;
        private Task? _drain;
        private string _cursor;
        private bool _done;

        internal Subscription(WatchFanout fanout, string prefix, PipeWriter writer, string cursor)
        {
            _fanout = fanout;
            Prefix = prefix;
            _writer = writer;
            _cursor = cursor;
        }

        public string Prefix { get; }

        /// <summary>Completes when the stream left the fan-out (not when the client went away: then call <see cref="Dispose"/>).</summary>
        public Task<Ending> Ended => _ended.Task;

        /// <summary>Leaves the fan-out (the client went away); nothing more is written.</summary>
        public void Dispose()
        {
            Leave();
            _ended.TrySetCanceled();
        }

        /// <summary>
        /// Leaves the fan-out; returns the cursor of the last event written to the stream (or of
        /// where it joined), or null when it had already left.
        /// </summary>
        public string? Leave()
        {
            lock (_fanout._gate)
            {
                if (!_fanout.Remove(this))
                {
                    return null;
                }
            }

            lock (this)
            {
                _done = true;
                _queue = null;
                return _cursor;
            }
        }

        /// <summary>
        /// Under the fan-out's gate (any thread): writes the frames and flushes, or queues them behind
        /// a flush under way. False when the queue is full: the stream must leave.
        /// </summary>
        internal bool Offer(Frame[] frames)
        {
            lock (this)
            {
                if (_done)
                {
                    return true;
                }

                if (_drain is not null)
                {
                    _queue ??= [];
                    _queue.AddRange(frames);
                    return _queue.Count <= MaxQueuedFrames;
                }

                try
                {
                    foreach (var frame in frames)
                    {
                        Write(frame);
                    }

                    var flush = _writer.FlushAsync(CancellationToken.None);
                    if (!flush.IsCompleted)
                    {
                        _drain = DrainAsync(flush);
                    }

                    return true;
                }
                catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or IOException or OperationCanceledException)
                {
                    // The response is gone: let the stream go.
                    return false;
                }
            }
        }

        internal void End(EndReason reason)
        {
            string cursor;
            Task? drain;
            lock (this)
            {
                _done = true;
                _queue = null;
                cursor = _cursor;
                drain = _drain;
            }

            _ended.TrySetResult(new Ending(reason, cursor, drain));
        }

        private void Write(Frame frame)
        {
            _writer.Write(frame.Bytes);
            if (frame.Cursor is not null)
            {
                _cursor = frame.Cursor;
            }
        }

        /// <summary>Waits for a flush under way, then writes what queued behind it; ends when a flush completes at once or the stream is done.</summary>
        private async Task DrainAsync(ValueTask<FlushResult> flush)
        {
            while (true)
            {
                try
                {
                    var result = await flush.ConfigureAwait(false);
                    if (result.IsCompleted || result.IsCanceled)
                    {
                        return; // the connection is gone; the request ends on its own
                    }
                }
                catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or IOException or OperationCanceledException)
                {
                    return;
                }

                lock (this)
                {
                    if (_done || _queue is not { Count: > 0 } queue)
                    {
                        _drain = null;
                        return;
                    }

                    foreach (var frame in queue)
                    {
                        Write(frame);
                    }

                    queue.Clear();
                    flush = _writer.FlushAsync(CancellationToken.None);
                    if (flush.IsCompleted)
                    {
                        _drain = null;
                        return;
                    }
                }
            }
        }
    }

    /// <summary>An encoded event shared by every stream it goes to; <see cref="Cursor"/> is its id (null for comments).</summary>
    internal sealed record Frame(byte[] Bytes, string? Cursor, string? Key);

    /// <summary>How a stream left: why, the cursor it reached (everything written before is in its response), and a flush still under way.</summary>
    internal sealed record Ending(EndReason Reason, string Cursor, Task? PendingFlush);
}
