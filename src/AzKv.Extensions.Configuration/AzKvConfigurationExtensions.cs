using AzKv.Extensions.Configuration;

namespace Microsoft.Extensions.Configuration;

/// <summary>Adds AzKv to a configuration builder (in this namespace so <c>builder.Configuration.AddAzKv</c> needs no using).</summary>
public static class AzKvConfigurationExtensions
{
    /// <summary>
    /// Adds the keys (and optionally feature flags) of an AzKv store as configuration, kept current
    /// from the watch stream, with a last-known-good copy on disk:
    /// <code>builder.Configuration.AddAzKv(o => o.Connect(new Uri("http://127.0.0.1:8080")).Select("myapp/"));</code>
    /// The first load happens here (up to <see cref="AzKvConfigurationOptions.StartupTimeout"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The options are incomplete, or AzKv could not be reached and there is no last-known-good copy (unless <see cref="AzKvConfigurationOptions.Optional"/>).</exception>
    public static IConfigurationBuilder AddAzKv(this IConfigurationBuilder builder, Action<AzKvConfigurationOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new AzKvConfigurationOptions();
        configure(options);
        options.BuildClientOptions(); // validate now, naming the missing setting, before any provider starts
        return builder.Add(new AzKvConfigurationSource(options));
    }
}
