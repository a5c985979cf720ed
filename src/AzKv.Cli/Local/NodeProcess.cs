using System.Diagnostics;
using AzKv.Cli.Platform;

namespace AzKv.Cli.Local;

/// <summary>
/// One node process of <c>azkv up</c>: its output goes to a log file, the tail of its output
/// (stderr and stdout, where the console logger writes) is kept to explain a failure, and it is stopped with SIGTERM (then killed after a grace period).
/// </summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    /// <summary>Lines of output kept for error messages.</summary>
    private const int TailLines = 20;

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Queue<string> _tail = new();
    private readonly Lock _lock = new();

    private NodeProcess(NodeLaunch.NodeSettings settings, Process process, StreamWriter log, string logPath)
    {
        Settings = settings;
        _process = process;
        _log = log;
        LogPath = logPath;
        ProcessId = process.Id;
    }

    public NodeLaunch.NodeSettings Settings { get; }

    public int ProcessId { get; }

    public string LogPath { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts the node; its stdout and stderr are appended to <paramref name="logPath"/>.</summary>
    /// <exception cref="System.ComponentModel.Win32Exception">The executable could not be started.</exception>
    public static NodeProcess Start(NodeLaunch.NodeSettings settings, ProcessStartInfo startInfo, string logPath)
    {
        var log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        try
        {
            process.Start();
        }
        catch
        {
            process.Dispose();
            log.Dispose();
            throw;
        }

        var node = new NodeProcess(settings, process, log, logPath);
        process.OutputDataReceived += (_, e) => node.OnLine(e.Data, isError: false);
        process.ErrorDataReceived += (_, e) => node.OnLine(e.Data, isError: true);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // Nothing is ever typed to a node; a closed stdin tells it so.
        process.StandardInput.Close();
        return node;
    }

    /// <summary>Waits until the process exits.</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>The last lines the node wrote (stderr lines marked with "!").</summary>
    public string GetOutputTail()
    {
        lock (_lock)
        {
            return _tail.Count == 0 ? "(no output)" : string.Join(Environment.NewLine, _tail);
        }
    }

    /// <summary>
    /// Asks the node to stop (SIGTERM: it hands its partitions over), waits up to
    /// <paramref name="grace"/>, then kills it. Returns true when it stopped by itself.
    /// </summary>
    public async Task<bool> StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return true;
        }

        if (!OperatingSystem.IsWindows())
        {
            _ = Posix.Kill(ProcessId, Posix.SigTerm);
        }
        else
        {
            // No SIGTERM on Windows: the node cannot be asked to stop gracefully from here.
            grace = TimeSpan.Zero;
        }

        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Exited in the meantime.
            }

            using var killed = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _process.WaitForExitAsync(killed.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Not reaped yet; the kernel finishes it.
            }

            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.Zero).ConfigureAwait(false);
        _process.Dispose();
        lock (_lock)
        {
            _log.Dispose();
        }
    }

    private void OnLine(string? line, bool isError)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // Output after disposal is dropped.
            }

            _tail.Enqueue(isError ? "! " + line : "  " + line);
            while (_tail.Count > TailLines)
            {
                _tail.Dequeue();
            }
        }
    }
}
