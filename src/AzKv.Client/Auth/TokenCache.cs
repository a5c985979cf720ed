namespace AzKv.Client.Auth;

/// <summary>
/// Caches the bearer token of <see cref="AzKvClientOptions.TokenProvider"/>: one caller at a time
/// asks the provider for a new token once the cached one reaches its refresh time; until then every
/// request reuses it. When a refresh fails while the cached token is still valid, the cached one is
/// used and the next request tries again, so a brief identity outage does not fail requests.
/// </summary>
internal sealed class TokenCache : IDisposable
{
    /// <summary>Refresh this long before expiry (Azure.Core's default); shorter lifetimes refresh at half-life.</summary>
    internal static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);

    /// <summary>A token this close to expiry is not sent even as a fallback: it could expire in flight.</summary>
    internal static readonly TimeSpan ExpiryMargin = TimeSpan.FromSeconds(10);

    private readonly Func<CancellationToken, ValueTask<AzKvAccessToken>> _provider;
    private readonly TimeProvider _timeProvider;
    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private Cached? _current;

    public TokenCache(Func<CancellationToken, ValueTask<AzKvAccessToken>> provider, TimeProvider timeProvider)
    {
        _provider = provider;
        _timeProvider = timeProvider;
    }

    /// <summary>Returns a valid token: the cached one before its refresh time, else a new one.</summary>
    /// <exception cref="AzKvException">The provider failed and there is no valid cached token.</exception>
    public async ValueTask<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        var cached = Volatile.Read(ref _current);
        if (cached is not null && _timeProvider.GetUtcNow() < cached.RefreshAt)
        {
            return cached.Token.Token;
        }

        await _refreshGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            cached = Volatile.Read(ref _current);
            var now = _timeProvider.GetUtcNow();
            if (cached is not null && now < cached.RefreshAt)
            {
                return cached.Token.Token;
            }

            AzKvAccessToken fresh;
            try
            {
                fresh = await _provider(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (cached is not null && now < cached.Token.ExpiresOn - ExpiryMargin)
                {
                    return cached.Token.Token;
                }

                throw new AzKvException($"Could not get an access token for AzKv: {ex.Message}", ex);
            }

            if (string.IsNullOrEmpty(fresh.Token))
            {
                throw new AzKvException("The AzKv token provider returned an empty token.");
            }

            Volatile.Write(ref _current, new Cached(fresh, GetRefreshAt(fresh, now)));
            return fresh.Token;
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    /// <summary>Forgets <paramref name="token"/> (the server refused it), so the next request gets a new one.</summary>
    public void Invalidate(string token)
    {
        var cached = Volatile.Read(ref _current);
        if (cached is not null && cached.Token.Token == token)
        {
            Interlocked.CompareExchange(ref _current, null, cached);
        }
    }

    public void Dispose() => _refreshGate.Dispose();

    internal static DateTimeOffset GetRefreshAt(AzKvAccessToken token, DateTimeOffset now)
    {
        if (token.RefreshOn is { } refreshOn && refreshOn < token.ExpiresOn)
        {
            return refreshOn;
        }

        var lifetime = token.ExpiresOn - now;
        return lifetime > 2 * RefreshMargin ? token.ExpiresOn - RefreshMargin : now + (lifetime / 2);
    }

    private sealed record Cached(AzKvAccessToken Token, DateTimeOffset RefreshAt);
}
