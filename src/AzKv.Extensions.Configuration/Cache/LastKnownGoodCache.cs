using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AzKv.Extensions.Configuration.Logging;
using AzKv.Extensions.Configuration.Mapping;
using Microsoft.Extensions.Logging;

namespace AzKv.Extensions.Configuration.Cache;

/// <summary>
/// The last-known-good copy of a provider's keys on local disk: one JSON file per selection
/// (endpoints + prefixes + flags, hashed into the name), replaced atomically (a temp file in the
/// same folder, flushed, then renamed over the old one), readable only by the current user on Unix.
/// A reader never sees a half-written file; a crash mid-write leaves the previous copy.
/// </summary>
internal sealed class LastKnownGoodCache
{
    /// <summary>Attempts of a rename that another process holds open (Windows), 50 ms apart.</summary>
    private const int MoveAttempts = 5;

    private readonly string _selection;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    public LastKnownGoodCache(string directory, string selection, TimeProvider timeProvider, ILogger logger)
    {
        _selection = selection;
        _timeProvider = timeProvider;
        _logger = logger;
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(selection)))[..16];
        FilePath = Path.Combine(directory, $"azkv-{hash}.json");
    }

    /// <summary>The cache file.</summary>
    public string FilePath { get; }

    /// <summary>Reads the copy; null when absent, unreadable, of another format or another selection (logged).</summary>
    public async Task<(IReadOnlyDictionary<string, StoredItem> Items, DateTimeOffset SavedAt)?> TryReadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(FilePath))
        {
            return null;
        }

        CacheDocument? document;
        try
        {
            var stream = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 4096, useAsync: true);
            await using (stream.ConfigureAwait(false))
            {
                document = await JsonSerializer.DeserializeAsync(stream, CacheJsonContext.Default.CacheDocument, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            Log.CacheUnreadable(_logger, FilePath, ex.Message);
            return null;
        }

        if (document is null || document.Version != CacheDocument.CurrentVersion)
        {
            Log.CacheUnreadable(_logger, FilePath, $"format version {document?.Version} is not {CacheDocument.CurrentVersion}");
            return null;
        }

        if (!string.Equals(document.Selection, _selection, StringComparison.Ordinal))
        {
            Log.CacheUnreadable(_logger, FilePath, "it holds another selection of keys");
            return null;
        }

        var items = new Dictionary<string, StoredItem>(StringComparer.Ordinal);
        foreach (var item in document.Items)
        {
            items[item.Key] = new StoredItem(item.Key, item.ContentType, item.Value);
        }

        return (items, document.SavedAt);
    }

    /// <summary>Replaces the copy with <paramref name="items"/>; failures are logged, never thrown (the app goes on).</summary>
    public async Task WriteAsync(IReadOnlyCollection<StoredItem> items, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        var temp = FilePath + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            var document = new CacheDocument
            {
                Version = CacheDocument.CurrentVersion,
                SavedAt = _timeProvider.GetUtcNow(),
                Selection = _selection,
                Items = [.. items.OrderBy(i => i.Key, StringComparer.Ordinal).Select(i => new CacheItem { Key = i.Key, ContentType = i.ContentType, Value = i.Value })],
            };
            Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, Options = FileOptions.Asynchronous };
            if (!OperatingSystem.IsWindows())
            {
                // Settings may include secrets: only this user reads the copy.
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            var stream = new FileStream(temp, options);
            await using (stream.ConfigureAwait(false))
            {
                await JsonSerializer.SerializeAsync(stream, document, CacheJsonContext.Default.CacheDocument, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);

                // fsync before the rename, so a power cut cannot leave a renamed but empty file.
                // .NET has no asynchronous fsync; this runs on the provider's background task.
                stream.Flush(flushToDisk: true);
            }

            await MoveWithRetryAsync(temp, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.CacheWriteFailed(_logger, ex, FilePath);
            TryDelete(temp);
        }
        catch (OperationCanceledException)
        {
            TryDelete(temp);
            throw;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task MoveWithRetryAsync(string temp, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                File.Move(temp, FilePath, overwrite: true);
                return;
            }
            catch (IOException) when (attempt < MoveAttempts)
            {
                // Another process has the file open without FileShare.Delete (Windows): wait and retry.
                await Task.Delay(TimeSpan.FromMilliseconds(50), _timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A stray temp file is harmless; the next write uses another name.
        }
    }
}
