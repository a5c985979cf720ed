namespace AzKv.Extensions.Configuration;

/// <summary>
/// How the provider keeps settings current (<see cref="AzKvConfigurationOptions.ConfigureRefresh"/>):
/// a watch kept open (the default), or, for hosts that cannot keep a connection open (Functions on
/// the consumption plan), checks on an interval and through the manual
/// <see cref="IConfigurationRefresher"/>. A check asks for the changes after the provider's watch
/// cursor without waiting (one request per watched prefix, not a list of the keys) and reads only
/// the keys that changed.
/// </summary>
public sealed class AzKvRefreshOptions
{
    /// <summary>The shortest refresh interval: more often than this is a watch's job.</summary>
    public static readonly TimeSpan MinimumRefreshInterval = TimeSpan.FromSeconds(1);

    /// <summary>The longest refresh interval (a day): settings older than that are a mistake, not a choice.</summary>
    public static readonly TimeSpan MaximumRefreshInterval = TimeSpan.FromDays(1);

    /// <summary>
    /// The default refresh interval (30 s, as Azure App Configuration's): how stale settings may
    /// get without the watch, and how often a manual refresher actually asks AzKv.
    /// </summary>
    public static readonly TimeSpan DefaultRefreshInterval = TimeSpan.FromSeconds(30);

    internal AzKvRefreshOptions()
    {
    }

    internal bool Watch { get; private set; } = true;

    internal TimeSpan RefreshInterval { get; private set; } = DefaultRefreshInterval;

    /// <summary>
    /// Keeps a watch (long poll) open and applies changes as they happen. Default on. Off: no
    /// long-lived request; the provider checks every refresh interval in the background, and
    /// <see cref="IConfigurationRefresher.TryRefreshAsync"/> checks on demand.
    /// </summary>
    public AzKvRefreshOptions UseWatch(bool enabled = true)
    {
        Watch = enabled;
        return this;
    }

    /// <summary>
    /// How often the provider checks for changes when the watch is off, and the least time
    /// between two checks a manual refresher makes (calls in between return at once). From
    /// <see cref="MinimumRefreshInterval"/> to <see cref="MaximumRefreshInterval"/>; default
    /// <see cref="DefaultRefreshInterval"/>. Checked when <c>AddAzKv</c> runs.
    /// </summary>
    public AzKvRefreshOptions SetRefreshInterval(TimeSpan interval)
    {
        RefreshInterval = interval;
        return this;
    }

    /// <summary>Throws naming the setting when a value is out of range.</summary>
    internal void Validate()
    {
        if (RefreshInterval < MinimumRefreshInterval || RefreshInterval > MaximumRefreshInterval)
        {
            throw new InvalidOperationException(
                $"AddAzKv: ConfigureRefresh(r => r.SetRefreshInterval(...)) must be from {MinimumRefreshInterval.TotalSeconds:0} s to {MaximumRefreshInterval.TotalHours:0} h (it is {RefreshInterval}).");
        }
    }
}
