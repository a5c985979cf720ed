using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace AzKv.Local;

/// <summary>
/// A running Azurite blob service, installed from the project's own pinned npm package
/// (infra/azurite) when missing. Used by the test fixtures and by <c>azkv up</c>; stops the
/// process (and only that process) when disposed.
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    /// <summary>Relative path from the install folder to Azurite's blob entry point.</summary>
    private const string BlobMainRelativePath = "node_modules/azurite/dist/src/blob/main.js";

    /// <summary>
    /// Written after <c>npm ci</c> succeeded, holding the SHA-256 of the package-lock.json it installed. Only this
    /// file proves a finished install: while <c>npm ci</c> unpacks, Azurite's entry point can exist before the
    /// modules it requires. It lives in node_modules, so the next <c>npm ci</c> removes it first.
    /// </summary>
    private const string InstalledMarkerRelativePath = "node_modules/.azkv-installed";

    private readonly Process _process;
    private readonly StringBuilder _output;
    private readonly string? _temporaryDirectory;
    private int _disposed;

    private AzuriteProcess(Process process, StringBuilder output, Uri serviceUri, string? temporaryDirectory)
    {
        _process = process;
        _output = output;
        ServiceUri = serviceUri;
        _temporaryDirectory = temporaryDirectory;
    }

    /// <summary>The blob service root, e.g. <c>http://127.0.0.1:10000</c>; accounts are the first path segment.</summary>
    public Uri ServiceUri { get; }

    /// <summary>The blob service port.</summary>
    public int BlobPort => ServiceUri.Port;

    /// <summary>Operating-system id of the Azurite process.</summary>
    public int ProcessId => _process.Id;

    /// <summary>True while the process runs.</summary>
    public bool IsRunning => !_process.HasExited;

    /// <summary>The blob endpoint of an account on this Azurite (path-style).</summary>
    public Uri GetBlobEndpoint(string accountName = AzuriteOptions.DevelopmentAccountName) =>
        new($"{ServiceUri.AbsoluteUri.TrimEnd('/')}/{accountName}");

    /// <summary>A Shared Key connection string for an account on this Azurite.</summary>
    public string GetConnectionString(
        string accountName = AzuriteOptions.DevelopmentAccountName,
        string accountKey = AzuriteOptions.DevelopmentAccountKey) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"DefaultEndpointsProtocol=http;AccountName={accountName};AccountKey={accountKey};BlobEndpoint={GetBlobEndpoint(accountName)};");

    /// <summary>Installs Azurite if needed, starts it and waits until it answers HTTP.</summary>
    /// <exception cref="AzuriteStartException">Node or npm is missing, the install failed, or Azurite did not come up.</exception>
    public static async Task<AzuriteProcess> StartAsync(AzuriteOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var installDirectory = options.InstallDirectory ?? FindInstallDirectory()
            ?? throw new AzuriteStartException(
                "Could not find infra/azurite/package.json above the current directory or the application folder. " +
                "Run from inside the AzKv repository, or set AZKV_AZURITE_DIR to that folder.");
        await EnsureInstalledAsync(installDirectory, options.InstallTimeout, cancellationToken).ConfigureAwait(false);

        // A free port can be taken between probing and binding; try a few times.
        const int Attempts = 3;
        for (var attempt = 1; ; attempt++)
        {
            var port = options.BlobPort != 0 ? options.BlobPort : GetFreeLoopbackPort();
            try
            {
                return await StartOnceAsync(options, installDirectory, port, cancellationToken).ConfigureAwait(false);
            }
            catch (AzuriteStartException) when (options.BlobPort == 0 && attempt < Attempts)
            {
                // Port raced with another process; pick another.
            }
        }
    }

    /// <summary>
    /// Finds the folder with Azurite's package.json: AZKV_AZURITE_DIR, else infra/azurite above
    /// the current directory or above the application's base directory.
    /// </summary>
    public static string? FindInstallDirectory()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("AZKV_AZURITE_DIR");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return fromEnvironment;
        }

        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "infra", "azurite");
                if (File.Exists(Path.Combine(candidate, "package.json")))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>Stops Azurite and removes its temporary folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
        {
            // Already gone, or did not exit in time: nothing more we can do.
        }
        finally
        {
            _process.Dispose();
            if (_temporaryDirectory is not null)
            {
                TryDeleteDirectory(_temporaryDirectory);
            }
        }
    }

    private static async Task<AzuriteProcess> StartOnceAsync(
        AzuriteOptions options, string installDirectory, int port, CancellationToken cancellationToken)
    {
        string? temporaryDirectory = null;
        var location = options.DataDirectory;
        if (location is null)
        {
            temporaryDirectory = Path.Combine(Path.GetTempPath(), "azkv-azurite-" + Guid.NewGuid().ToString("N"));
            location = temporaryDirectory;
        }

        Directory.CreateDirectory(location);
        var startInfo = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = location,
        };
        startInfo.ArgumentList.Add(Path.Combine(installDirectory, BlobMainRelativePath));
        foreach (var argument in new[]
        {
            "--blobHost", options.Host,
            "--blobPort", port.ToString(CultureInfo.InvariantCulture),
            "--disableTelemetry",
            "--disableProductStyleUrl",
        })
        {
            startInfo.ArgumentList.Add(argument);
        }

        // Azurite refuses --location together with --inMemoryPersistence; in memory, the temporary
        // working directory only catches anything it might still write.
        if (options.DataDirectory is null)
        {
            startInfo.ArgumentList.Add("--inMemoryPersistence");
        }
        else
        {
            startInfo.ArgumentList.Add("--location");
            startInfo.ArgumentList.Add(location);
        }

        if (options.ExtraAccounts.Count > 0)
        {
            // Azurite keeps devstoreaccount1 only when it is listed too.
            var accounts = new StringBuilder();
            accounts.Append(AzuriteOptions.DevelopmentAccountName).Append(':').Append(AzuriteOptions.DevelopmentAccountKey);
            foreach (var (name, key) in options.ExtraAccounts)
            {
                accounts.Append(';').Append(name).Append(':').Append(key);
            }

            startInfo.Environment["AZURITE_ACCOUNTS"] = accounts.ToString();
        }

        var output = new StringBuilder();
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        try
        {
            if (!process.Start())
            {
                throw new AzuriteStartException("Could not start 'node'.");
            }
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            throw new AzuriteStartException(
                "Node.js was not found on PATH. AzKv runs the Azure Storage emulator (Azurite) with Node.js 20 or later: install Node.js and try again.", ex);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var serviceUri = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{options.Host}:{port}"));
        var azurite = new AzuriteProcess(process, output, serviceUri, temporaryDirectory);
        try
        {
            await azurite.WaitUntilReadyAsync(options.StartTimeout, cancellationToken).ConfigureAwait(false);
            return azurite;
        }
        catch
        {
            await azurite.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        var probe = GetBlobEndpoint();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                throw new AzuriteStartException(
                    $"Azurite exited with code {_process.ExitCode} while starting on port {BlobPort}. Its output:\n{ReadOutput()}");
            }

            try
            {
                // Any HTTP answer (even 400/403 for an unsigned request) means it is listening.
                using var response = await http.GetAsync(probe, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Probe timed out; try again.
            }

            if (deadline.Elapsed > timeout)
            {
                throw new AzuriteStartException(
                    $"Azurite did not answer on {probe} within {timeout.TotalSeconds:0} s. Its output:\n{ReadOutput()}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }
    }

    private string ReadOutput()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            // Keep the tail only; Azurite is silent unless something is wrong.
            if (output.Length > 64 * 1024)
            {
                output.Remove(0, output.Length - (32 * 1024));
            }

            output.AppendLine(line);
        }
    }

    /// <summary>Installs the pinned Azurite into <paramref name="installDirectory"/> with <c>npm ci</c> unless it is installed.</summary>
    /// <exception cref="AzuriteStartException">npm is missing, or the install failed or timed out.</exception>
    public static async Task EnsureInstalledAsync(string installDirectory, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var lockFileHash = await HashLockFileAsync(installDirectory, cancellationToken).ConfigureAwait(false);
        if (await IsInstalledAsync(installDirectory, lockFileHash, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        // Several test assemblies may start at once: one installs, the others wait on the lock and then
        // find the marker it wrote.
        var lockPath = Path.Combine(installDirectory, ".install.lock");
        using var installLock = await AcquireFileLockAsync(lockPath, timeout, cancellationToken).ConfigureAwait(false);
        if (await IsInstalledAsync(installDirectory, lockFileHash, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        await RunNpmCiAsync(installDirectory, timeout, cancellationToken).ConfigureAwait(false);
        var markerPath = Path.Combine(installDirectory, InstalledMarkerRelativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(markerPath)!);
        await File.WriteAllTextAsync(markerPath, lockFileHash, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<string> HashLockFileAsync(string installDirectory, CancellationToken cancellationToken)
    {
        var lockFile = Path.Combine(installDirectory, "package-lock.json");
        try
        {
            var bytes = await File.ReadAllBytesAsync(lockFile, cancellationToken).ConfigureAwait(false);
            return Convert.ToHexString(SHA256.HashData(bytes));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new AzuriteStartException($"{lockFile} is missing: it pins the Azurite version AzKv installs with 'npm ci'.", ex);
        }
    }

    private static async Task<bool> IsInstalledAsync(string installDirectory, string lockFileHash, CancellationToken cancellationToken)
    {
        var markerPath = Path.Combine(installDirectory, InstalledMarkerRelativePath);
        try
        {
            var installed = await File.ReadAllTextAsync(markerPath, cancellationToken).ConfigureAwait(false);
            return string.Equals(installed.Trim(), lockFileHash, StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }

    private static async Task RunNpmCiAsync(string installDirectory, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo("npm")
        {
            WorkingDirectory = installDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "ci", "--no-audit", "--no-fund", "--loglevel=error" })
        {
            startInfo.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new AzuriteStartException("Could not start 'npm'.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new AzuriteStartException(
                "npm was not found on PATH. AzKv installs the Azure Storage emulator (Azurite) with npm: install Node.js 20 or later (it includes npm) and try again.", ex);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeoutSource.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(timeoutSource.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                throw new AzuriteStartException($"'npm ci' in {installDirectory} did not finish within {timeout.TotalMinutes:0} minutes.");
            }

            if (process.ExitCode != 0)
            {
                throw new AzuriteStartException(
                    $"'npm ci' in {installDirectory} failed with exit code {process.ExitCode}:\n{await stdout.ConfigureAwait(false)}{await stderr.ConfigureAwait(false)}");
            }
        }
    }

    private static async Task<FileStream> AcquireFileLockAsync(string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                // Never deleted: deleting a lock file on close lets a waiter lock the unlinked file while
                // a newcomer locks a fresh one, and both install at once.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1);
            }
            catch (IOException) when (deadline.Elapsed < timeout)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static int GetFreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A temp folder left behind is harmless.
        }
    }
}

/// <summary>Azurite could not be installed or started; the message says why and what to do.</summary>
public sealed class AzuriteStartException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AzuriteStartException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
