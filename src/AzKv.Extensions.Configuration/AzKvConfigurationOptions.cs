using AzKv.Client;
using AzKv.Extensions.Configuration.Refresh;
using Azure.Core;
using Microsoft.Extensions.Logging;

using AzKv.Extensions.Configuration.Mapping;

namespace AzKv.Extensions.Configuration;

/// <summary>
/// What <see cref="Microsoft.Extensions.Configuration.AzKvConfigurationExtensions.AddAzKv"/> loads and how:
/// <code>
/// builder.Configuration.AddAzKv(o => o
///     .Connect(new Uri("http://127.0.0.1:8080"))
///     .Select("myapp/")
///     .UseFeatureFlags());
/// </code>
/// </summary>
public sealed class AzKvConfigurationOptions
{
    private readonly List<LabelSelection> _selections = [];
    private readonly List<string> _trimPrefixes = [];
    private IReadOnlyList<Uri> _endpoints = [];
    private AzKvClientOptions? _clientOptions;
    private string? _apiKey;
    private Func<CancellationToken, ValueTask<AzKvAccessToken>>? _tokenProvider;
    private AzKvConfigurationRefresher? _refresher;

    /// <summary>
    /// Start without AzKv settings instead of failing when no endpoint answers within
    /// <see cref="StartupTimeout"/> and there is no last-known-good copy. Default false.
    /// </summary>
    public bool Optional { get; set; }

    /// <summary>
    /// The longest the first load waits for AzKv (retries included) before falling back to the
    /// last-known-good copy. Default 10 s. Each request attempt gets a share of it (the budget over
    /// the number of endpoints plus one), so a hung endpoint cannot keep the others from being tried.
    /// </summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Keep settings current from the watch stream and raise the reload token on change. Default
    /// true. Off: the settings are loaded once (and again on <c>IConfigurationRoot.Reload()</c>).
    /// </summary>
    public bool ReloadOnChange { get; set; } = true;

    /// <summary>Keep a last-known-good copy on disk and start from it when AzKv is unreachable. Default true.</summary>
    public bool UseLastKnownGoodCopy { get; set; } = true;

    /// <summary>
    /// The folder of the last-known-good copy. Null (default): <c>AzKv/config-cache</c> under the
    /// user's LocalApplicationData, or <c>.azkv/config-cache</c> under the app's content root when
    /// there is no such folder (a service account without a profile).
    /// </summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Where the provider logs (load, fallback, refresh failures). Null: nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>The clock for backoff and the startup timeout (tests use a fake one).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal IReadOnlyList<string> Prefixes => [.. _selections.Where(s => s.Snapshot is null).Select(s => s.Prefix)];

    /// <summary>The explicit <see cref="TrimKeyPrefix"/> prefixes, in order.</summary>
    internal IReadOnlyList<string> TrimPrefixes => _trimPrefixes;

    /// <summary>How settings are kept current (<see cref="ConfigureRefresh"/>).</summary>
    internal AzKvRefreshOptions Refresh { get; } = new();

    /// <summary>Key Vault reference settings; null until <see cref="ConfigureKeyVault"/> is called.</summary>
    internal AzKvKeyVaultOptions? KeyVault { get; private set; }

    /// <summary>The refresher, created on first use and attached to each provider this source builds.</summary>
    internal AzKvConfigurationRefresher Refresher => _refresher ??= new AzKvConfigurationRefresher(_endpoints);

    internal string? FlagNamePrefix { get; private set; }

    /// <summary>Connects to AzKv nodes, most preferred first (other regions after the local one).</summary>
    /// <exception cref="ArgumentException">No endpoint was given.</exception>
    public AzKvConfigurationOptions Connect(params Uri[] endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.Length == 0)
        {
            throw new ArgumentException("Connect needs at least one endpoint, e.g. new Uri(\"http://127.0.0.1:8080\").", nameof(endpoints));
        }

        _endpoints = [.. endpoints];
        _clientOptions = null;
        return this;
    }

    /// <summary>Connects with full client options (timeouts, retries, handler, credentials). Used as given.</summary>
    public AzKvConfigurationOptions Connect(AzKvClientOptions clientOptions)
    {
        ArgumentNullException.ThrowIfNull(clientOptions);
        _clientOptions = clientOptions;
        _endpoints = clientOptions.Endpoints;
        return this;
    }

    /// <summary>
    /// Loads the keys under <paramref name="prefix"/> (e.g. <c>myapp/</c>), without the prefix, with
    /// <c>/</c> as the configuration separator <c>:</c>. Call again for more prefixes; a later one
    /// wins when two give the same setting. Nothing selected (and no flags) selects every key.
    /// </summary>
    public AzKvConfigurationOptions Select(string prefix) => Select(prefix, label: null);

    /// <summary>
    /// Loads the keys under <paramref name="prefix"/> whose label is <paramref name="label"/> (null, or <c>"\0"</c>, for the
    /// null label). Selections stack as in App Configuration: for the same configuration key a later selection wins, so
    /// <c>Select("app/").Select("app/", "prod")</c> loads the unlabelled values with the <c>prod</c> ones on top.
    /// </summary>
    /// <exception cref="ArgumentException">The label is empty or holds <c>*</c> or <c>,</c> (select one label per call).</exception>
    public AzKvConfigurationOptions Select(string prefix, string? label)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (label == AzKvLabels.Null)
        {
            label = null;
        }

        if (label is not null && (label.Length == 0 || label.AsSpan().IndexOfAny('*', ',') >= 0))
        {
            throw new ArgumentException("Select one label per call: not empty, no '*' or ','.", nameof(label));
        }

        var selection = new LabelSelection(prefix, label);
        if (!_selections.Contains(selection))
        {
            _selections.Add(selection);
        }

        return this;
    }

    /// <summary>
    /// Loads the items of snapshot <paramref name="name"/> (docs/api.md, "Snapshots"), with their full keys as
    /// configuration paths (<c>/</c> as <c>:</c>; <see cref="TrimKeyPrefix"/> applies). It stacks with <see cref="Select(string, string?)"/>
    /// in call order, later winning, as in App Configuration. A snapshot never changes, so it is read on each full load
    /// and never watched. A snapshot that does not exist (or expired) fails the load like an unreachable store.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty.</exception>
    public AzKvConfigurationOptions SelectSnapshot(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var selection = new LabelSelection(string.Empty, null) { Snapshot = name };
        if (!_selections.Contains(selection))
        {
            _selections.Add(selection);
        }

        return this;
    }

    /// <summary>
    /// Trims <paramref name="prefix"/> from the keys that start with it when they become configuration keys (as App
    /// Configuration's <c>TrimKeyPrefix</c>); the first matching trim prefix, in the order given, applies. Keys that match
    /// none keep the implicit trim of the prefix they were selected with.
    /// </summary>
    public AzKvConfigurationOptions TrimKeyPrefix(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (!_trimPrefixes.Contains(prefix, StringComparer.Ordinal))
        {
            _trimPrefixes.Add(prefix);
        }

        return this;
    }

    /// <summary>
    /// Loads the feature flags (keys <c>.appconfig.featureflag/&lt;name&gt;</c>) into
    /// <c>feature_management:feature_flags</c>, where Microsoft.FeatureManagement reads them.
    /// </summary>
    /// <param name="namePrefix">Only flags whose name starts with this (e.g. <c>myapp.</c>); empty for all.</param>
    public AzKvConfigurationOptions UseFeatureFlags(string namePrefix = "")
    {
        ArgumentNullException.ThrowIfNull(namePrefix);
        FlagNamePrefix = namePrefix;
        return this;
    }

    /// <summary>Sends <paramref name="apiKey"/> in the <c>X-AzKv-Key</c> header.</summary>
    public AzKvConfigurationOptions UseApiKey(string apiKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
        _apiKey = apiKey;
        return this;
    }

    /// <summary>
    /// Authenticates with Entra ID bearer tokens from <paramref name="credential"/> (e.g.
    /// <c>DefaultAzureCredential</c>, a managed identity), cached and refreshed before expiry.
    /// </summary>
    /// <param name="credential">The credential.</param>
    /// <param name="scopes">The token scopes, e.g. <c>api://&lt;AzKv app id&gt;/.default</c>.</param>
    public AzKvConfigurationOptions UseTokenCredential(TokenCredential credential, params string[] scopes) =>
        UseTokenProvider(AzKvTokenCredential.ToTokenProvider(credential, scopes));

    /// <summary>Authenticates with bearer tokens from <paramref name="tokenProvider"/>, cached and refreshed before expiry.</summary>
    public AzKvConfigurationOptions UseTokenProvider(Func<CancellationToken, ValueTask<AzKvAccessToken>> tokenProvider)
    {
        ArgumentNullException.ThrowIfNull(tokenProvider);
        _tokenProvider = tokenProvider;
        return this;
    }

    /// <summary>
    /// Chooses how settings are kept current: the watch (default), or checks on an interval for
    /// hosts that cannot keep a connection open:
    /// <code>o.ConfigureRefresh(r => r.UseWatch(false).SetRefreshInterval(TimeSpan.FromMinutes(1)))</code>
    /// </summary>
    public AzKvConfigurationOptions ConfigureRefresh(Action<AzKvRefreshOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(Refresh);
        return this;
    }

    /// <summary>
    /// Resolves Key Vault references (values of content type
    /// <c>application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8</c>) to their secrets:
    /// <code>o.ConfigureKeyVault(kv => kv.SetCredential(new DefaultAzureCredential()))</code>
    /// Without it, a reference fails the first load naming its key.
    /// </summary>
    public AzKvConfigurationOptions ConfigureKeyVault(Action<AzKvKeyVaultOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        KeyVault ??= new AzKvKeyVaultOptions();
        configure(KeyVault);
        return this;
    }

    /// <summary>
    /// The refresher of this source, to check for changes on demand
    /// (<see cref="IConfigurationRefresher.TryRefreshAsync"/>) once the configuration is built.
    /// </summary>
    public IConfigurationRefresher GetRefresher() => Refresher;

    /// <summary>The client options to connect with; throws naming the setting when something is missing.</summary>
    internal AzKvClientOptions BuildClientOptions()
    {
        if (_endpoints.Count == 0)
        {
            throw new InvalidOperationException("AddAzKv: call Connect(...) with at least one AzKv endpoint, e.g. o.Connect(new Uri(\"http://127.0.0.1:8080\")).");
        }

        if (StartupTimeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException($"AddAzKv: StartupTimeout must be positive (it is {StartupTimeout}).");
        }

        Refresh.Validate();
        KeyVault?.Validate();

        if (_clientOptions is not null)
        {
            if (_apiKey is not null || _tokenProvider is not null)
            {
                throw new InvalidOperationException("AddAzKv: with Connect(AzKvClientOptions), set ApiKey or TokenProvider on those options instead of UseApiKey/UseTokenCredential.");
            }

            if (_clientOptions.Endpoints.Count > 1 && _clientOptions.RequestTimeout * _clientOptions.Endpoints.Count > StartupTimeout)
            {
                throw new InvalidOperationException(
                    $"AddAzKv: the client's RequestTimeout ({_clientOptions.RequestTimeout.TotalSeconds:0.#} s) times its {_clientOptions.Endpoints.Count} endpoints " +
                    $"is longer than StartupTimeout ({StartupTimeout.TotalSeconds:0.#} s): a hung first endpoint would use up the startup budget before the others are tried. " +
                    "Lower RequestTimeout or raise StartupTimeout.");
            }

            return _clientOptions;
        }

        // Defaults for a long-lived background reader: the watch resumes within 5 s of a node's
        // return (the client's default backoff goes up to 10 s), and the clock is the provider's.
        // Each attempt gets a share of the startup budget, so a hung first endpoint leaves time to
        // try every other one (and once more) before StartupTimeout; a watch long poll waits 15 s,
        // so a node that hangs is left within 20 s.
        return new AzKvClientOptions
        {
            Endpoints = _endpoints,
            RequestTimeout = AttemptTimeout(StartupTimeout, _endpoints.Count),
            WatchPollTimeout = TimeSpan.FromSeconds(15),
            MaxBackoff = TimeSpan.FromSeconds(5),
            ApiKey = _apiKey,
            TokenProvider = _tokenProvider,
            TimeProvider = TimeProvider,
        };
    }

    /// <summary>
    /// One attempt's share of the startup budget: the budget over (endpoints + 1), so every endpoint
    /// can be tried and one retry still fits; at least 1 s, at most the client's 30 s default.
    /// </summary>
    internal static TimeSpan AttemptTimeout(TimeSpan startupTimeout, int endpoints)
    {
        var share = startupTimeout / (endpoints + 1);
        return share < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1)
            : share > TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(30)
            : share;
    }

    /// <summary>The prefixes to load: the selected ones, or every key when nothing at all is selected.</summary>
    internal IReadOnlyList<LabelSelection> EffectiveSelections() =>
        _selections.Count == 0 && FlagNamePrefix is null ? [new LabelSelection(string.Empty, null)] : [.. _selections];
}
