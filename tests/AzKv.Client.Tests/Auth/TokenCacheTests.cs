using AzKv.Client.Auth;
using AzKv.Testing;

namespace AzKv.Client.Tests.Auth;

public sealed class TokenCacheTests
{
    [Fact]
    public async Task GetTokenAsync_WhenTheTokenIsFarFromExpiry_ReusesItWithoutAskingAgain()
    {
        var clock = new ManualTimeProvider();
        var source = new CountingTokenSource(clock);
        using var cache = new TokenCache(source.GetTokenAsync, clock);

        var first = await cache.GetTokenAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(54));
        var second = await cache.GetTokenAsync(CancellationToken.None);

        Assert.Equal("t1", first);
        Assert.Equal("t1", second);
        Assert.Equal(1, source.Calls);
    }

    [Fact]
    public async Task GetTokenAsync_WhenWithinFiveMinutesOfExpiry_GetsANewToken()
    {
        var clock = new ManualTimeProvider();
        var source = new CountingTokenSource(clock);
        using var cache = new TokenCache(source.GetTokenAsync, clock);
        await cache.GetTokenAsync(CancellationToken.None);

        clock.Advance(TimeSpan.FromMinutes(56));
        var refreshed = await cache.GetTokenAsync(CancellationToken.None);

        Assert.Equal("t2", refreshed);
    }

    [Fact]
    public async Task GetTokenAsync_WhenTheProviderSetsRefreshOn_RefreshesThen()
    {
        var clock = new ManualTimeProvider();
        var calls = 0;
        using var cache = new TokenCache(
            _ => ValueTask.FromResult(new AzKvAccessToken($"t{++calls}", clock.GetUtcNow().AddHours(1), clock.GetUtcNow().AddMinutes(30))),
            clock);
        await cache.GetTokenAsync(CancellationToken.None);

        clock.Advance(TimeSpan.FromMinutes(29));
        var before = await cache.GetTokenAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(2));
        var after = await cache.GetTokenAsync(CancellationToken.None);

        Assert.Equal("t1", before);
        Assert.Equal("t2", after);
    }

    [Fact]
    public async Task GetTokenAsync_WhenRefreshFailsWhileTheTokenIsStillValid_KeepsUsingItAndRetriesNextTime()
    {
        var clock = new ManualTimeProvider();
        var calls = 0;
        var fail = false;
        using var cache = new TokenCache(
            _ =>
            {
                calls++;
                return fail
                    ? throw new InvalidOperationException("identity endpoint down")
                    : ValueTask.FromResult(new AzKvAccessToken($"t{calls}", clock.GetUtcNow().AddHours(1)));
            },
            clock);
        await cache.GetTokenAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(57));
        fail = true;

        var during = await cache.GetTokenAsync(CancellationToken.None);
        fail = false;
        var after = await cache.GetTokenAsync(CancellationToken.None);

        Assert.Equal("t1", during);
        Assert.Equal("t3", after);
    }

    [Fact]
    public async Task GetTokenAsync_WhenTheProviderFailsAndNoTokenIsValid_ThrowsAzKvExceptionWithTheCause()
    {
        using var cache = new TokenCache(_ => throw new InvalidOperationException("no identity"), new ManualTimeProvider());

        var exception = await Assert.ThrowsAsync<AzKvException>(() => cache.GetTokenAsync(CancellationToken.None).AsTask());

        Assert.Contains("no identity", exception.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(exception.InnerException);
    }

    [Fact]
    public async Task Invalidate_WhenTheServerRefusedTheToken_MakesTheNextCallGetANewOne()
    {
        var clock = new ManualTimeProvider();
        var source = new CountingTokenSource(clock);
        using var cache = new TokenCache(source.GetTokenAsync, clock);
        var first = await cache.GetTokenAsync(CancellationToken.None);

        cache.Invalidate(first);
        var second = await cache.GetTokenAsync(CancellationToken.None);

        Assert.Equal("t2", second);
    }

    [Theory]
    [InlineData(60, 55)]
    [InlineData(8, 4)]
    public void GetRefreshAt_WhenNoRefreshOnIsGiven_IsFiveMinutesBeforeExpiryOrHalfALifetime(int lifetimeMinutes, int expectedMinutes)
    {
        var now = ManualTimeProvider.DefaultStartTime;

        var refreshAt = TokenCache.GetRefreshAt(new AzKvAccessToken("t", now.AddMinutes(lifetimeMinutes)), now);

        Assert.Equal(now.AddMinutes(expectedMinutes), refreshAt);
    }

    /// <summary>Hands out <c>t1</c>, <c>t2</c>, … each valid for an hour from the clock's now, counting the calls.</summary>
    private sealed class CountingTokenSource(ManualTimeProvider clock)
    {
        public int Calls { get; private set; }

        public ValueTask<AzKvAccessToken> GetTokenAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult(new AzKvAccessToken($"t{++Calls}", clock.GetUtcNow().AddHours(1)));
    }
}
