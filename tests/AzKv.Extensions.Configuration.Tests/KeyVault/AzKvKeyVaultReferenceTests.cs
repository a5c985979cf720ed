using System.Text;
using AzKv.Client;
using AzKv.Extensions.Configuration.Tests.Provider;
using AzKv.Extensions.Configuration.Tests.Support;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace AzKv.Extensions.Configuration.Tests.KeyVault;

/// <summary>
/// Key Vault references resolved by the provider through the real SecretClient, against the
/// <see cref="KeyVaultStandIn"/> over TLS, with a live AzKv node.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzKvKeyVaultReferenceTests : LiveNodeTests, IClassFixture<ServerFixture>, IAsyncLifetime
{
    private const string ReferenceContentType = "application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8";
    private static readonly TimeSpan SecretInterval = TimeSpan.FromMinutes(10);

    private readonly List<IConfigurationRoot> _roots = [];
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));
    private readonly CapturingLoggerFactory _logs;
    private KeyVaultStandIn _vault = null!;
    private RecordingCredential _credential = null!;

    public AzKvKeyVaultReferenceTests(AzuriteFixture azurite, ServerFixture fixture, ITestOutputHelper output)
        : base(azurite, fixture, output)
    {
        _logs = new CapturingLoggerFactory(output);
    }

    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        _vault = await KeyVaultStandIn.StartAsync();
        _credential = new RecordingCredential(_vault.AcceptedToken);
    }

    async Task IAsyncLifetime.DisposeAsync() => await _vault.DisposeAsync();

    protected override void DisposeTestResources()
    {
        foreach (var root in _roots)
        {
            (root as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public async Task AddAzKv_WhenAValueIsAKeyVaultReference_ResolvesItWithTheAppsCredential()
    {
        var secret = "p@ss-" + Guid.NewGuid().ToString("N");
        _vault.SetSecret("db-password", secret);
        await PutReferenceAsync("kvload/Db/Password", _vault.SecretUri("db-password"));
        await Client.PutStringAsync("kvload/Db/Host", "db1");

        var configuration = Build("kvload/");

        Assert.Equal(secret, configuration["Db:Password"]);
        Assert.Equal("db1", configuration["Db:Host"]);
        Assert.Contains(_credential.Requests, r => r.Scopes.SequenceEqual(["https://vault.azure.net/.default"]) && r.TenantId == KeyVaultStandIn.Tenant);
        // The SDK's challenge flow: an anonymous probe, the 401 challenge, then the request with the token.
        Assert.Equal(["GET /secrets/db-password anonymous → 401", "GET /secrets/db-password auth → 200"], _vault.Requests);

        // The copy on disk holds the reference, never the secret; the logs never show it.
        var copy = await File.ReadAllTextAsync(AzKvConfigurationProviderTests.ProviderOf(configuration).CacheFilePath!);
        Assert.DoesNotContain(secret, copy, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)), copy, StringComparison.Ordinal);
        Assert.DoesNotContain(_logs.Entries, e => e.Text.Contains(secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddAzKv_WhenTheReferenceNamesAVersion_ResolvesThatVersion()
    {
        var first = _vault.SetSecret("versioned", "one");
        _vault.SetSecret("versioned", "two");
        await PutReferenceAsync("kvver/Old", _vault.SecretUri("versioned", first));
        await PutReferenceAsync("kvver/Latest", _vault.SecretUri("versioned"));

        var configuration = Build("kvver/");

        Assert.Equal("one", configuration["Old"]);
        Assert.Equal("two", configuration["Latest"]);
    }

    [Fact]
    public async Task AddAzKv_WhenTheSecretDoesNotExist_ThrowsNamingTheKeyAndTheSecretUri()
    {
        var secret = "visible-" + Guid.NewGuid().ToString("N");
        _vault.SetSecret("present", secret);
        await PutReferenceAsync("kv404/A", _vault.SecretUri("present"));
        await PutReferenceAsync("kv404/B", _vault.SecretUri("missing"));

        var error = Assert.Throws<AzKvKeyVaultReferenceException>(() => Build("kv404/"));

        Assert.Equal("kv404/B", error.Key);
        Assert.Equal(_vault.SecretUri("missing"), error.SecretUri);
        Assert.Contains("'kv404/B'", error.Message, StringComparison.Ordinal);
        Assert.Contains(_vault.SecretUri("missing").ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("404 (SecretNotFound)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddAzKv_WhenKeyVaultForbidsTheSecret_ThrowsNaming403()
    {
        _vault.SetSecret("locked", "never-seen");
        _vault.Forbid("locked");
        await PutReferenceAsync("kv403/Locked", _vault.SecretUri("locked"));

        var error = Assert.Throws<AzKvKeyVaultReferenceException>(() => Build("kv403/"));

        Assert.Contains("403 (Forbidden)", error.Message, StringComparison.Ordinal);
        Assert.Contains("'kv403/Locked'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("never-seen", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddAzKv_WhenKeyVaultRefusesTheToken_ThrowsNaming401()
    {
        _vault.SetSecret("guarded", "never-seen");
        await PutReferenceAsync("kv401/Guarded", _vault.SecretUri("guarded"));
        _credential = new RecordingCredential("not-the-token");

        var error = Assert.Throws<AzKvKeyVaultReferenceException>(() => Build("kv401/"));

        Assert.Contains("401", error.Message, StringComparison.Ordinal);
        Assert.Contains("'kv401/Guarded'", error.Message, StringComparison.Ordinal);
        Assert.NotEmpty(_credential.Requests);
    }

    [Fact]
    public async Task AddAzKv_WhenAReferenceIsStoredWithoutConfigureKeyVault_ThrowsNamingConfigureKeyVault()
    {
        await PutReferenceAsync("kvnone/S", _vault.SecretUri("anything"));

        var error = Assert.Throws<AzKvKeyVaultReferenceException>(() => Build("kvnone/", configureKeyVault: false));

        Assert.Contains("ConfigureKeyVault", error.Message, StringComparison.Ordinal);
        Assert.Contains("'kvnone/S'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefreshAsync_WhenTheSecretRotatedAndTheIntervalPassed_AppliesTheNewValue()
    {
        _vault.SetSecret("rotating", "v1");
        await PutReferenceAsync("kvrot/Key", _vault.SecretUri("rotating"));
        var options = new AzKvConfigurationOptions();
        var configuration = Build("kvrot/", options: options);
        var reloads = 0;
        using var subscription = ChangeToken.OnChange(configuration.GetReloadToken, () => Interlocked.Increment(ref reloads));
        _vault.SetSecret("rotating", "v2");

        _clock.Advance(TimeSpan.FromMinutes(1));
        await options.GetRefresher().RefreshAsync();
        Assert.Equal("v1", configuration["Key"]);

        _clock.Advance(SecretInterval);
        await options.GetRefresher().RefreshAsync();

        Assert.Equal("v2", configuration["Key"]);
        Assert.Equal(1, Volatile.Read(ref reloads));
    }

    [Fact]
    public async Task RefreshAsync_WhenTheSecretBecomesForbidden_KeepsTheLastValueAndLogsTheKeyAndUriButNeverTheSecret()
    {
        var secret = "kept-" + Guid.NewGuid().ToString("N");
        _vault.SetSecret("revoked", secret);
        await PutReferenceAsync("kvrev/Key", _vault.SecretUri("revoked"));
        var options = new AzKvConfigurationOptions();
        var configuration = Build("kvrev/", options: options);
        _vault.Forbid("revoked");

        _clock.Advance(SecretInterval);
        await options.GetRefresher().RefreshAsync();

        Assert.Equal(secret, configuration["Key"]);
        var entry = Assert.Single(_logs.Entries, e => e.EventId == 8015);
        Assert.Contains("'kvrev/Key'", entry.Text, StringComparison.Ordinal);
        Assert.Contains(_vault.SecretUri("revoked").ToString(), entry.Text, StringComparison.Ordinal);
        Assert.Contains("403", entry.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(_logs.Entries, e => e.Text.Contains(secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddAzKv_WhenAReferenceArrivesThroughTheWatch_ResolvesIt()
    {
        _vault.SetSecret("later", "resolved-later");
        await Client.PutStringAsync("kvwatch/Plain", "p");
        var configuration = Build("kvwatch/", watch: true);

        await PutReferenceAsync("kvwatch/Secret", _vault.SecretUri("later"));

        await Eventually.HoldsAsync(() => configuration["Secret"] == "resolved-later", TimeSpan.FromSeconds(10), "the resolved reference");
    }

    [Fact]
    public async Task AddAzKv_WhenASecretResolverIsSet_UsesItForVaultsWithoutAClient()
    {
        await PutReferenceAsync("kvfunc/S", new Uri("https://elsewhere.vault.azure.net/secrets/s1"));
        var asked = new List<Uri>();

        var configuration = Build("kvfunc/", configureKeyVault: false, configure: o => o.ConfigureKeyVault(kv => kv.SetSecretResolver((uri, _) =>
        {
            asked.Add(uri);
            return ValueTask.FromResult("from-resolver");
        })));

        Assert.Equal("from-resolver", configuration["S"]);
        Assert.Equal([new Uri("https://elsewhere.vault.azure.net/secrets/s1")], asked);
    }

    [Fact]
    public async Task AddAzKv_WhenASecretClientIsRegistered_UsesItForItsVault()
    {
        _vault.SetSecret("registered", "via-client");
        await PutReferenceAsync("kvreg/S", _vault.SecretUri("registered"));
        var client = new SecretClient(_vault.VaultUri, _credential, _vault.CreateClientOptions());

        var configuration = Build("kvreg/", configureKeyVault: false, configure: o => o.ConfigureKeyVault(kv => kv.Register(client)));

        Assert.Equal("via-client", configuration["S"]);
    }

    [Fact]
    public async Task AddAzKv_WhenTheReferenceIsNotAnHttpsSecretUri_ThrowsNamingTheKey()
    {
        await Client.PutAsync("kvbad/S", """{"uri":"http://x.vault.azure.net/keys/k"}"""u8.ToArray(), ReferenceContentType);

        var error = Assert.Throws<AzKvKeyVaultReferenceException>(() => Build("kvbad/"));

        Assert.Equal("kvbad/S", error.Key);
        Assert.Null(error.SecretUri);
    }

    [Fact]
    public void AddAzKv_WhenTheSecretRefreshIntervalIsUnderASecond_ThrowsNamingTheSetting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new ConfigurationBuilder().AddAzKv(o => o
            .Connect(Server.Url)
            .ConfigureKeyVault(kv => kv.SetSecretRefreshInterval(TimeSpan.FromMilliseconds(10)))));

        Assert.Contains("SetSecretRefreshInterval", error.Message, StringComparison.Ordinal);
    }

    private Task PutReferenceAsync(string key, Uri secretUri) =>
        Client.PutAsync(key, Encoding.UTF8.GetBytes($$"""{"uri":"{{secretUri}}"}"""), ReferenceContentType);

    private IConfigurationRoot Build(string prefix, bool watch = false, bool configureKeyVault = true, AzKvConfigurationOptions? options = null, Action<AzKvConfigurationOptions>? configure = null)
    {
        options ??= new AzKvConfigurationOptions();
        options.ReloadOnChange = watch;
        options.TimeProvider = watch ? TimeProvider.System : _clock;
        options.CacheDirectory = CacheDirectory.Path;
        options.LoggerFactory = _logs.Factory;
        options
            .Connect(new AzKvClientOptions
            {
                Endpoints = [Server.Url],
                TimeProvider = options.TimeProvider,
                MaxRetries = 0,
                RequestTimeout = TimeSpan.FromSeconds(10),
            })
            .Select(prefix)
            .ConfigureRefresh(r => r.UseWatch(watch).SetRefreshInterval(TimeSpan.FromSeconds(30)));
        if (configureKeyVault)
        {
            options.ConfigureKeyVault(kv => kv
                .SetCredential(_credential)
                .SetClientOptions(_vault.CreateClientOptions())
                .SetSecretRefreshInterval(SecretInterval));
        }

        configure?.Invoke(options);
        var configuration = new ConfigurationBuilder().Add(new AzKvConfigurationSource(options)).Build();
        _roots.Add(configuration);
        return configuration;
    }
}
