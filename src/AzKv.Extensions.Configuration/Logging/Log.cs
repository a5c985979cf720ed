using Microsoft.Extensions.Logging;

namespace AzKv.Extensions.Configuration.Logging;

/// <summary>
/// The provider's log events (stable ids 8001–8099). Keys are logged, values never: a setting may
/// be a secret.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 8001, Level = LogLevel.Information, Message = "AzKv configuration loaded {KeyCount} keys ({FlagCount} feature flags) from {Endpoints} in {ElapsedMilliseconds} ms.")]
    public static partial void Loaded(ILogger logger, int keyCount, int flagCount, string endpoints, long elapsedMilliseconds);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Warning, Message = "AzKv is unreachable ({Reason}); starting from the last-known-good copy {Path} saved at {SavedAt:O}, and reconnecting in the background.")]
    public static partial void StartedFromCache(ILogger logger, string reason, string path, DateTimeOffset savedAt);

    [LoggerMessage(EventId = 8003, Level = LogLevel.Warning, Message = "AzKv is unreachable ({Reason}) and there is no last-known-good copy at {Path}; starting without AzKv settings (Optional = true), reconnecting in the background.")]
    public static partial void StartedEmpty(ILogger logger, string reason, string path);

    [LoggerMessage(EventId = 8004, Level = LogLevel.Information, Message = "AzKv configuration reloaded from the store: {KeyCount} keys ({FlagCount} feature flags), {Outcome}.")]
    public static partial void Reloaded(ILogger logger, int keyCount, int flagCount, string outcome);

    [LoggerMessage(EventId = 8005, Level = LogLevel.Debug, Message = "AzKv configuration applied {ChangeCount} changes under '{Prefix}' and raised the reload token.")]
    public static partial void ChangesApplied(ILogger logger, int changeCount, string prefix);

    [LoggerMessage(EventId = 8006, Level = LogLevel.Warning, Message = "AzKv configuration refresh failed; retrying in {DelayMilliseconds} ms with a full reload.")]
    public static partial void RefreshFailed(ILogger logger, Exception exception, long delayMilliseconds);

    [LoggerMessage(EventId = 8007, Level = LogLevel.Information, Message = "The AzKv watch cursor under '{Prefix}' expired; reloading every key.")]
    public static partial void CursorExpired(ILogger logger, string prefix);

    [LoggerMessage(EventId = 8008, Level = LogLevel.Warning, Message = "Could not write the last-known-good copy {Path}; the previous copy (if any) is kept.")]
    public static partial void CacheWriteFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(EventId = 8009, Level = LogLevel.Warning, Message = "Ignoring the last-known-good copy {Path}: {Reason}.")]
    public static partial void CacheUnreadable(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 8010, Level = LogLevel.Warning, Message = "AzKv key '{Key}' has content type {ContentType} but is not valid JSON ({Reason}); using it as one text value.")]
    public static partial void InvalidJson(ILogger logger, string key, string contentType, string reason);

    [LoggerMessage(EventId = 8011, Level = LogLevel.Warning, Message = "Ignoring feature flag key '{Key}': {Reason}.")]
    public static partial void InvalidFlag(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = 8012, Level = LogLevel.Warning, Message = "AzKv key '{Key}' has {Count} concurrent versions; using the newest (resolve them with azkv get / put --if-match).")]
    public static partial void Siblings(ILogger logger, string key, int count);

    [LoggerMessage(EventId = 8013, Level = LogLevel.Warning, Message = "AzKv configuration reload failed ({Reason}); keeping the current settings.")]
    public static partial void ManualReloadFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 8014, Level = LogLevel.Warning, Message = "An on-demand AzKv configuration refresh failed; keeping the current settings.")]
    public static partial void RefreshOnDemandFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 8015, Level = LogLevel.Warning, Message = "AzKv key '{Key}' is a Key Vault reference to {SecretUri} that could not be resolved; it keeps its last secret, if it had one.")]
    public static partial void SecretUnresolved(ILogger logger, Exception exception, string key, string secretUri);
}
