using AzKv.Extensions.Configuration;
using AzKv.Extensions.Configuration.Provider;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="IConfigurationRefresherProvider"/> (in this namespace so <c>services.AddAzKvRefresher()</c> needs no using).</summary>
public static class AzKvRefresherServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IConfigurationRefresherProvider"/>, which finds the AzKv providers in
    /// the app's <see cref="IConfiguration"/>: inject it and call
    /// <see cref="IConfigurationRefresher.TryRefreshAsync"/> where the app wants fresh settings.
    /// </summary>
    public static IServiceCollection AddAzKvRefresher(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IConfigurationRefresherProvider, RefresherProvider>();
        return services;
    }

    private sealed class RefresherProvider : IConfigurationRefresherProvider
    {
        public RefresherProvider(IConfiguration configuration)
        {
            IConfigurationRefresher[] refreshers = configuration is IConfigurationRoot root
                ? [.. root.Providers.OfType<AzKvConfigurationProvider>().Select(p => p.Refresher)]
                : [];
            Refreshers = refreshers.Length > 0
                ? refreshers
                : throw new InvalidOperationException("AddAzKvRefresher: the app's configuration has no AzKv provider; call builder.Configuration.AddAzKv(...) first.");
        }

        public IEnumerable<IConfigurationRefresher> Refreshers { get; }
    }
}
