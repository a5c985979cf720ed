namespace AzKv.Extensions.Configuration;

/// <summary>
/// Refreshes an AzKv configuration provider on demand, for hosts that cannot keep a watch open
/// (Functions on the consumption plan call it at the start of each invocation). Get it from
/// <see cref="AzKvConfigurationOptions.GetRefresher"/> or, in an app with dependency injection,
/// from <see cref="IConfigurationRefresherProvider"/> (<c>services.AddAzKvRefresher()</c>). A call
/// asks AzKv only when the last check is older than the refresh interval
/// (<see cref="AzKvRefreshOptions.SetRefreshInterval"/>); changes raise the reload token as the
/// watch does.
/// </summary>
public interface IConfigurationRefresher
{
    /// <summary>
    /// The AzKv endpoints of this provider, most preferred first.
    /// </summary>
    IReadOnlyList<Uri> Endpoints { get; }

    /// <summary>
    /// Checks for changes (when the refresh interval has passed since the last check) and applies them.
    /// </summary>
    /// <exception cref="InvalidOperationException">The configuration has not been built yet.</exception>
    /// <exception cref="AzKv.Client.AzKvException">AzKv refused the request or could not be reached; the current settings stay.</exception>
    Task RefreshAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// <see cref="RefreshAsync"/> that returns false (and logs event 8014) instead of throwing when
    /// AzKv could not be reached; the current settings stay.
    /// </summary>
    Task<bool> TryRefreshAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// The refreshers of every AzKv provider of the app's configuration, from dependency injection
/// (<c>services.AddAzKvRefresher()</c>).
/// </summary>
public interface IConfigurationRefresherProvider
{
    /// <summary>One refresher per AzKv provider in the app's configuration.</summary>
    IEnumerable<IConfigurationRefresher> Refreshers { get; }
}
