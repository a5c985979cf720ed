using System.Diagnostics;

namespace AzKv.Extensions.Configuration.Tests.Support;

/// <summary>Waits for a condition with a deadline (never a fixed sleep), and measures how long it took.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> every 5 ms until it holds; fails the test after <paramref name="deadline"/>.</summary>
    public static async Task<TimeSpan> HoldsAsync(Func<Task<bool>> condition, TimeSpan deadline, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < deadline, $"{what} did not happen within {deadline.TotalSeconds} s.");
            await Task.Delay(5);
        }

        return watch.Elapsed;
    }

    /// <inheritdoc cref="HoldsAsync(Func{Task{bool}}, TimeSpan, string)"/>
    public static Task<TimeSpan> HoldsAsync(Func<bool> condition, TimeSpan deadline, string what) =>
        HoldsAsync(() => Task.FromResult(condition()), deadline, what);
}
