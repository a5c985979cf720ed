using Azure.Core;

namespace AzKv.Extensions.Configuration.Tests.Auth;

public sealed class AzKvTokenCredentialTests
{
    [Fact]
    public async Task ToTokenProvider_WhenAsked_ReturnsTheCredentialsTokenWithItsExpiryAndRefreshTimeForTheScopes()
    {
        var expires = new DateTimeOffset(2026, 1, 1, 1, 0, 0, TimeSpan.Zero);
        var refresh = expires.AddMinutes(-30);
        var credential = new FakeCredential(new AccessToken("entra-token", expires, refresh));

        var provider = AzKvTokenCredential.ToTokenProvider(credential, "api://azkv/.default");
        var token = await provider(CancellationToken.None);

        Assert.Equal("entra-token", token.Token);
        Assert.Equal(expires, token.ExpiresOn);
        Assert.Equal(refresh, token.RefreshOn);
        Assert.Equal(["api://azkv/.default"], credential.LastScopes!);
    }

    [Fact]
    public void ToTokenProvider_WhenNoScopeIsGiven_ThrowsAskingForTheScope()
    {
        var exception = Assert.Throws<ArgumentException>(() => AzKvTokenCredential.ToTokenProvider(new FakeCredential(default)));

        Assert.Contains("scope", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AzKvAccessToken_WhenPrinted_LeavesTheTokenOut()
    {
        var token = new AzKv.Client.AzKvAccessToken("secret-value", DateTimeOffset.UnixEpoch);

        Assert.DoesNotContain("secret-value", token.ToString(), StringComparison.Ordinal);
    }

    private sealed class FakeCredential : TokenCredential
    {
        private readonly AccessToken _token;

        public FakeCredential(AccessToken token)
        {
            _token = token;
        }

        public string[]? LastScopes { get; private set; }

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            LastScopes = requestContext.Scopes;
            return _token;
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            LastScopes = requestContext.Scopes;
            return ValueTask.FromResult(_token);
        }
    }
}
