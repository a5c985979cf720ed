using System.IO.Pipelines;
using System.Text;
using AzKv.Partitions;
using AzKv.Server.Api;

namespace AzKv.Server.Tests;

/// <summary>
/// The SSE fan-out (issue 18): each change encoded once and written to every matching stream, a
/// slow reader let go with the cursor it reached instead of holding up the others, and no change
/// lost or repeated while changes keep coming.
/// </summary>
public sealed class WatchFanoutTests
{
    private const ulong Tag = 0x1234;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task TryJoin_WhenChangesArrive_EncodesEachOnceAndWritesItToEveryMatchingStream()
    {
        var feed = new ChangeFeed(100);
        using var fanout = NewFanout(feed);
        var matching = Enumerable.Range(0, 3).Select(_ => new Pipe()).ToArray();
        var other = new Pipe();
        foreach (var pipe in matching)
        {
            Assert.True(fanout.TryJoin("app/", fanout.Positions, pipe.Writer, out _, out _));
        }

        Assert.True(fanout.TryJoin("other/", fanout.Positions, other.Writer, out _, out _));

        feed.Append([Put(1, "app/a"), Put(2, "app/b"), Put(3, "skip/c")]);

        var texts = await Task.WhenAll(matching.Select(p => ReadUntilAsync(p.Reader, "app/b")));
        Assert.All(texts, t => Assert.Equal(texts[0], t));
        Assert.Contains("\"app/a\"", texts[0], StringComparison.Ordinal);
        Assert.DoesNotContain("skip/c", texts[0], StringComparison.Ordinal);
        Assert.Contains("id: " + WatchCursor.Encode(Tag, [2]) + "\n", texts[0], StringComparison.Ordinal);
        await WaitForAsync(() => fanout.Positions[0] == 3);
        Assert.Equal(2, fanout.FramesEncoded);
        Assert.False(other.Reader.TryRead(out _));
    }

    [Fact]
    public async Task Offer_WhenAReaderFallsTooFarBehind_EndsItWithTheCursorItReachedAndKeepsServingTheOthers()
    {
        var feed = new ChangeFeed(4096);
        using var fanout = NewFanout(feed);
        var slow = new Pipe(new PipeOptions(pauseWriterThreshold: 64, resumeWriterThreshold: 32, useSynchronizationContext: false));
        var fast = new Pipe(new PipeOptions(pauseWriterThreshold: 8 << 20, resumeWriterThreshold: 4 << 20));
        Assert.True(fanout.TryJoin("app/", fanout.Positions, slow.Writer, out var slowSubscription, out _));
        Assert.True(fanout.TryJoin("app/", fanout.Positions, fast.Writer, out _, out _));

        // The first event fills the slow reader's buffer; the next ones queue behind its flush until
        // the queue is full, and then it is let go. The fast reader gets every one meanwhile.
        feed.Append([Put(1, "app/a")]);
        await WaitForAsync(() => fanout.Positions[0] == 1);
        var last = WatchFanout.MaxQueuedFrames + 2;
        for (var lsn = 2; lsn <= last; lsn += 100)
        {
            feed.Append(Enumerable.Range(lsn, Math.Min(100, last - lsn + 1)).Select(i => Put(i, $"app/{i:D5}")).ToList());
        }

        var ending = await slowSubscription.Ended.WaitAsync(Deadline);

        Assert.Equal(WatchFanout.EndReason.Overflow, ending.Reason);
        Assert.Equal(WatchCursor.Encode(Tag, [1]), ending.Cursor);
        Assert.NotNull(ending.PendingFlush);
        Assert.Contains($"\"app/{last:D5}\"", await ReadUntilAsync(fast.Reader, $"app/{last:D5}"), StringComparison.Ordinal);
        Assert.Equal(1, fanout.Count);

        // What was written before it was let go is still delivered once the client reads.
        var slowText = await ReadUntilAsync(slow.Reader, "app/a");
        Assert.DoesNotContain("app/00002", slowText, StringComparison.Ordinal);
        await ending.PendingFlush!.WaitAsync(Deadline);
    }

    [Fact]
    public async Task Offer_WhenAReaderIsBrieflyBehind_QueuesAndDeliversEverythingInOrder()
    {
        var feed = new ChangeFeed(100);
        using var fanout = NewFanout(feed);
        var slow = new Pipe(new PipeOptions(pauseWriterThreshold: 64, resumeWriterThreshold: 32, useSynchronizationContext: false));
        Assert.True(fanout.TryJoin("app/", fanout.Positions, slow.Writer, out var subscription, out _));

        feed.Append([Put(1, "app/a")]);
        await WaitForAsync(() => fanout.Positions[0] == 1);
        feed.Append([Put(2, "app/b"), Put(3, "app/c")]);
        await WaitForAsync(() => fanout.Positions[0] == 3);

        var text = await ReadUntilAsync(slow.Reader, "app/c");
        Assert.True(text.IndexOf("app/a", StringComparison.Ordinal) < text.IndexOf("app/b", StringComparison.Ordinal));
        Assert.False(subscription.Ended.IsCompleted);
        Assert.Equal(1, fanout.Count);
    }

    [Fact]
    public async Task TryJoin_WhenBehindTheFanout_RefusesAndNamesThePositionToCatchUpTo()
    {
        var feed = new ChangeFeed(100);
        using var fanout = NewFanout(feed);
        Assert.True(fanout.TryJoin("app/", fanout.Positions, new Pipe().Writer, out _, out _));
        feed.Append([Put(1, "app/a"), Put(2, "app/b")]);
        await WaitForAsync(() => fanout.Positions[0] == 2);

        var joined = fanout.TryJoin("app/", [1], new Pipe().Writer, out var subscription, out var target);

        Assert.False(joined);
        Assert.Null(subscription);
        Assert.Equal([2L], target);
    }

    [Fact]
    public async Task TryJoin_WhenAheadBeforeAnyStreamJoined_JoinsOnceTheFanoutHasCaughtUp()
    {
        var feed = new ChangeFeed(100);
        using var fanout = NewFanout(feed);
        feed.Append([Put(1, "app/a")]);
        var pipe = new Pipe();

        // A stream that started from "now" after the fan-out was made is ahead of it; the fan-out
        // must move on by itself, even though no stream has joined it yet.
        Assert.False(fanout.TryJoin("app/", [1], pipe.Writer, out _, out var target));
        Assert.Equal([0L], target);
        await WaitForAsync(() => fanout.TryJoin("app/", [1], pipe.Writer, out _, out _));
        Assert.Equal(1, fanout.Count);
    }

    [Fact]
    public async Task Dispatch_WhenChangesKeepComing_DeliversEveryChangeOnceInOrder()
    {
        const int Changes = 2000;
        var feed = new ChangeFeed(Changes);
        using var fanout = NewFanout(feed);
        // Buffers large enough for every event: this test is about order and completeness, not overflow.
        var pipes = Enumerable.Range(0, 8).Select(_ => new Pipe(new PipeOptions(pauseWriterThreshold: 8 << 20, resumeWriterThreshold: 4 << 20))).ToArray();
        foreach (var pipe in pipes)
        {
            Assert.True(fanout.TryJoin("k/", fanout.Positions, pipe.Writer, out _, out _));
        }

        var readers = pipes.Select(p => ReadUntilAsync(p.Reader, $"k/{Changes:D5}\"")).ToArray();
        for (var lsn = 1; lsn <= Changes; lsn += 10)
        {
            feed.Append(Enumerable.Range(lsn, 10).Select(i => Put(i, $"k/{i:D5}")).ToList());
            await Task.Yield();
        }

        foreach (var text in await Task.WhenAll(readers))
        {
            var keys = text.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => l[(l.IndexOf("k/", StringComparison.Ordinal) + 2)..][..5]).ToList();
            Assert.Equal(Enumerable.Range(1, Changes).Select(i => i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture)), keys);
        }
    }

    [Fact]
    public async Task Dispose_WhenStreamsAreJoined_EndsThemWithTheCursorToResumeFrom()
    {
        var feed = new ChangeFeed(100);
        var fanout = NewFanout(feed);
        var pipe = new Pipe();
        Assert.True(fanout.TryJoin("app/", fanout.Positions, pipe.Writer, out var subscription, out _));
        feed.Append([Put(1, "app/a")]);
        await ReadUntilAsync(pipe.Reader, "app/a");
        await WaitForAsync(() => fanout.Positions[0] == 1);

        fanout.Dispose();
        var ending = await subscription!.Ended.WaitAsync(Deadline);

        Assert.Equal(WatchFanout.EndReason.Stopping, ending.Reason);
        Assert.Equal(WatchCursor.Encode(Tag, [1]), ending.Cursor);
        Assert.Contains("id: " + ending.Cursor + "\n", Encoding.UTF8.GetString(WatchFanout.ResumeFrame(ending.Cursor, ending.Reason)), StringComparison.Ordinal);
    }

    private static WatchFanout NewFanout(ChangeFeed feed) =>
        new([feed], _ => true, Tag, TimeProvider.System, TimeSpan.FromSeconds(15));

    private static Change Put(long lsn, string key) => new(lsn, key, false, "\"e" + lsn + "\"", "text/plain", 1);

    private static async Task<string> ReadUntilAsync(PipeReader reader, string marker)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        var text = new StringBuilder();
        while (true)
        {
            var result = await reader.ReadAsync(timeout.Token);
            foreach (var segment in result.Buffer)
            {
                text.Append(Encoding.UTF8.GetString(segment.Span));
            }

            reader.AdvanceTo(result.Buffer.End);
            var tail = text.ToString(Math.Max(0, text.Length - 4096 - marker.Length), Math.Min(text.Length, 4096 + marker.Length));
            if (tail.Contains(marker, StringComparison.Ordinal))
            {
                return text.ToString();
            }
        }
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "the condition did not hold in time");
            await Task.Delay(10);
        }
    }
}
