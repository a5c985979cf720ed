using AzKv.Testing;
using AzKv.Threading;

namespace AzKv.Core.Tests.Threading;

public sealed class BackgroundLoopTests
{
    [Fact]
    public async Task Start_WhenTheClockAdvances_RunsOneRoundPerInterval()
    {
        var time = new ManualTimeProvider();
        var rounds = 0;
        var loop = new BackgroundLoop();

        loop.Start(async token =>
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(5), time, token);
                Interlocked.Increment(ref rounds);
            }
        });
        for (var expected = 1; expected <= 3; expected++)
        {
            await WaitAsync(() => time.ActiveTimerCount > 0);
            time.Advance(TimeSpan.FromSeconds(5));
            await WaitAsync(() => Volatile.Read(ref rounds) == expected);
        }

        await loop.DisposeAsync();
        Assert.Equal(3, rounds);
    }

    [Fact]
    public async Task DisposeAsync_WhenTheBodyIsWaiting_CancelsItsTokenAndWaitsForItToEnd()
    {
        var time = new ManualTimeProvider();
        var ended = false;
        var loop = new BackgroundLoop();
        loop.Start(async token =>
        {
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, time, token);
            }
            finally
            {
                await Task.Yield();
                ended = true;
            }
        });

        await loop.DisposeAsync();

        Assert.True(ended);
    }

    [Fact]
    public async Task DisposeAsync_WhenCalledTwice_SecondCallDoesNothing()
    {
        // The host stops a component and the container disposes it: a graceful stop used to exit with 1.
        var loop = new BackgroundLoop();
        loop.Start(token => Task.Delay(Timeout.InfiniteTimeSpan, token));

        await loop.DisposeAsync();
        await loop.DisposeAsync();

        Assert.Throws<ObjectDisposedException>(() => loop.Start(_ => Task.CompletedTask));
    }

    [Fact]
    public async Task DisposeAsync_WhenNeverStarted_Completes()
    {
        var loop = new BackgroundLoop();

        await loop.DisposeAsync();

        Assert.Throws<ObjectDisposedException>(() => loop.Start(_ => Task.CompletedTask));
    }

    [Fact]
    public async Task DisposeAsync_WhenTheBodyFailed_ThrowsItsExceptionOnceThenNothing()
    {
        var loop = new BackgroundLoop();
        loop.Start(_ => Task.FromException(new InvalidOperationException("boom")));

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () => await loop.DisposeAsync());
        await loop.DisposeAsync();

        Assert.Equal("boom", thrown.Message);
    }

    [Fact]
    public async Task Start_WhenAlreadyStarted_Throws()
    {
        await using var loop = new BackgroundLoop();
        loop.Start(token => Task.Delay(Timeout.InfiniteTimeSpan, token));

        Assert.Throws<InvalidOperationException>(() => loop.Start(_ => Task.CompletedTask));
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(10);
        }
    }
}
