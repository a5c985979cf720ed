namespace AzKv.Client;

/// <summary>
/// A bearer token for AzKv and when it expires, as an <see cref="AzKvClientOptions.TokenProvider"/>
/// returns it (e.g. from an Entra ID <c>TokenCredential</c>). The client caches it and asks for a
/// new one before it expires.
/// </summary>
/// <param name="Token">The token sent as <c>Authorization: Bearer &lt;token&gt;</c>. Never logged.</param>
/// <param name="ExpiresOn">When the token stops being accepted.</param>
/// <param name="RefreshOn">When to ask for a new one; null: five minutes before <paramref name="ExpiresOn"/>, or halfway through a shorter lifetime.</param>
public readonly record struct AzKvAccessToken(string Token, DateTimeOffset ExpiresOn, DateTimeOffset? RefreshOn = null)
{
    /// <summary>Leaves the token out, so it is never printed by accident.</summary>
    public override string ToString() => $"AzKvAccessToken(expires {ExpiresOn:O})";
}
