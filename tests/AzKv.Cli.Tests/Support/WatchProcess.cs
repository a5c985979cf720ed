using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Channels;
using AzKv.Testing.Cli;

namespace AzKv.Cli.Tests.Support;

/// <summary>A running <c>azkv watch</c>, read line by line.</summary>
public sealed partial class WatchProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _lock = new();

    private WatchProcess(Process process)
    {
        _process = process;
    }

    public string Stdout
    {
        get
        {
            lock (_lock)
            {
                return _stdout.ToString();
            }
        }
    }

    public static WatchProcess Start(string url, params string[] args)
    {
        var process = new Process { StartInfo = CliRunner.CreateStartInfo(["watch", .. args], url) };
        var watch = new WatchProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                watch._lines.Writer.TryComplete();
                return;
            }

            lock (watch._lock)
            {
                watch._stdout.AppendLine(e.Data);
            }

            watch._lines.Writer.TryWrite(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (watch._lock)
            {
                watch._stderr.AppendLine(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return watch;
    }

    /// <summary>Calls <paramref name="poke"/> (e.g. a write) until the watch prints a line; returns that line.</summary>
    public async Task<string> WaitForLineAsync(Func<int, Task> poke, TimeSpan deadline)
    {
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; stopwatch.Elapsed < deadline; i++)
        {
            await poke(i);
            using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            try
            {
                if (await _lines.Reader.WaitToReadAsync(wait.Token) && _lines.Reader.TryRead(out var line))
                {
                    return line;
                }

                throw new InvalidOperationException($"azkv watch exited early.\nstderr: {_stderr}");
            }
            catch (OperationCanceledException)
            {
                // No line yet: poke again.
            }
        }

        throw new TimeoutException($"azkv watch printed nothing within {deadline.TotalSeconds} s.\nstderr: {_stderr}");
    }

    public async Task<int> StopAsync(TimeSpan deadline)
    {
        Assert.Equal(0, Kill(_process.Id, 15));
        using var timeout = new CancellationTokenSource(deadline);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
