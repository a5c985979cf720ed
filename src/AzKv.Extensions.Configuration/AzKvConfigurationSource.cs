using AzKv.Extensions.Configuration.Provider;
using Microsoft.Extensions.Configuration;

namespace AzKv.Extensions.Configuration;

/// <summary>The configuration source <c>AddAzKv</c> adds; builds one provider (one client, one watcher) per build.</summary>
public sealed class AzKvConfigurationSource : IConfigurationSource
{
    /// <summary>Creates the source.</summary>
    public AzKvConfigurationSource(AzKvConfigurationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
    }

    /// <summary>The options.</summary>
    public AzKvConfigurationOptions Options { get; }

    /// <inheritdoc />
    public IConfigurationProvider Build(IConfigurationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // A host's configuration (WebApplicationBuilder.Configuration) knows the content root.
        var contentRoot = (builder as IConfiguration)?[ContentRootKey];
        return new AzKvConfigurationProvider(Options, ResolveCacheDirectory(Options.CacheDirectory, contentRoot));
    }

    /// <summary>The host setting that holds the content root (HostDefaults.ContentRootKey).</summary>
    internal const string ContentRootKey = "contentRoot";

    /// <summary>The configured folder, else LocalApplicationData/AzKv/config-cache, else &lt;content root&gt;/.azkv/config-cache.</summary>
    internal static string ResolveCacheDirectory(string? configured, string? contentRoot)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            return Path.GetFullPath(configured);
        }

        var local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        if (!string.IsNullOrEmpty(local))
        {
            return Path.Combine(local, "AzKv", "config-cache");
        }

        return Path.Combine(string.IsNullOrEmpty(contentRoot) ? AppContext.BaseDirectory : contentRoot, ".azkv", "config-cache");
    }
}
