using AzKv.Extensions.Configuration.Provider;

namespace AzKv.Extensions.Configuration.Refresh;

/// <summary>
/// The refresher of one <c>AddAzKv</c> source. It exists before the configuration is built
/// (<see cref="AzKvConfigurationOptions.GetRefresher"/> is called while configuring), and each
/// provider the source builds attaches itself; the latest one is refreshed.
/// </summary>
internal sealed class AzKvConfigurationRefresher : IConfigurationRefresher
{
    private AzKvConfigurationProvider? _provider;

    public AzKvConfigurationRefresher(IReadOnlyList<Uri> endpoints) => Endpoints = endpoints;

    public IReadOnlyList<Uri> Endpoints { get; private set; }

    internal void Attach(AzKvConfigurationProvider provider, IReadOnlyList<Uri> endpoints)
    {
        Endpoints = endpoints;
        Volatile.Write(ref _provider, provider);
    }

    public Task RefreshAsync(CancellationToken cancellationToken = default) =>
        Provider.RefreshOnDemandAsync(cancellationToken);

    public Task<bool> TryRefreshAsync(CancellationToken cancellationToken = default) =>
        Provider.TryRefreshOnDemandAsync(cancellationToken);

    private AzKvConfigurationProvider Provider =>
        Volatile.Read(ref _provider)
        ?? throw new InvalidOperationException("The AzKv configuration has not been built yet: build it (builder.Build(), or the host) before refreshing.");
}
