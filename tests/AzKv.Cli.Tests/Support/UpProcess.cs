using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using System.Text;
using System.Threading.Channels;
using AzKv.Testing.Cli;

namespace AzKv.Cli.Tests.Support;

/// <summary>One node line of <c>azkv up</c>.</summary>
public sealed record UpNode(string Region, string NodeId, Uri Url, int ProcessId);

/// <summary>A running <c>azkv up</c>: started, read until <c>ready</c>, stopped with SIGTERM.</summary>
public sealed partial class UpProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly List<string> _stdout = [];
    private readonly StringBuilder _stderr = new();
    private readonly Lock _lock = new();

    private UpProcess(Process process)
    {
        _process = process;
    }

    public IReadOnlyList<UpNode> Nodes { get; private set; } = [];

    /// <summary>The <c>frontend</c> lines (<c>--frontends</c>).</summary>
    public IReadOnlyList<UpNode> FrontEnds { get; private set; } = [];

    public string? LogDirectory { get; private set; }

    public int ProcessId => _process.Id;

    public string Stderr
    {
        get
        {
            lock (_lock)
            {
                return _stderr.ToString();
            }
        }
    }

    public IReadOnlyList<string> StdoutLines
    {
        get
        {
            lock (_lock)
            {
                return [.. _stdout];
            }
        }
    }

    /// <summary>Starts <c>azkv up &lt;args&gt;</c>; does not wait.</summary>
    public static UpProcess Start(params string[] args)
    {
        var process = new Process { StartInfo = CliRunner.CreateStartInfo(["up", .. args]), EnableRaisingEvents = true };
        var up = new UpProcess(process);
        process.OutputDataReceived += (_, e) => up.OnStdout(e.Data);
        process.ErrorDataReceived += (_, e) => up.OnStderr(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return up;
    }

    /// <summary>Reads stdout until <c>ready</c>; fails with everything <c>up</c> printed when it exits or the deadline passes.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        var nodes = new List<UpNode>();
        var frontEnds = new List<UpNode>();
        try
        {
            await foreach (var line in _lines.Reader.ReadAllAsync(timeout.Token))
            {
                var match = NodeLine().Match(line);
                if (match.Success)
                {
                    (match.Groups["kind"].Value == "frontend" ? frontEnds : nodes).Add(new UpNode(
                        match.Groups["region"].Value,
                        match.Groups["node"].Value,
                        new Uri(match.Groups["url"].Value),
                        int.Parse(match.Groups["pid"].Value, CultureInfo.InvariantCulture)));
                }
                else if (line.StartsWith("logs ", StringComparison.Ordinal))
                {
                    LogDirectory = line["logs ".Length..];
                }
                else if (line == "ready")
                {
                    Nodes = nodes;
                    FrontEnds = frontEnds;
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"azkv up was not ready within {deadline.TotalSeconds} s.\n{Describe()}");
        }

        throw new InvalidOperationException($"azkv up ended before 'ready'.\n{Describe()}");
    }

    /// <summary>Sends SIGTERM and waits for the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan deadline)
    {
        Assert.Equal(0, Kill(_process.Id, SigTerm));
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"azkv up did not stop within {deadline.TotalSeconds} s of SIGTERM.\n{Describe()}");
        }

        return _process.ExitCode;
    }

    /// <summary>Waits for <c>up</c> to exit by itself and returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public string Describe() =>
        $"stdout:\n{string.Join('\n', StdoutLines)}\nstderr:\n{Stderr}";

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, SigTerm);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }

    /// <summary>True while a process with this id exists (polls up to <paramref name="deadline"/> for it to go).</summary>
    public static async Task<bool> IsGoneAsync(int processId, TimeSpan deadline)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < deadline)
        {
            try
            {
                using var process = Process.GetProcessById(processId);
                if (process.HasExited)
                {
                    return true;
                }
            }
            catch (ArgumentException)
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    private void OnStdout(string? line)
    {
        if (line is null)
        {
            _lines.Writer.TryComplete();
            return;
        }

        lock (_lock)
        {
            _stdout.Add(line);
        }

        _lines.Writer.TryWrite(line);
    }

    private void OnStderr(string? line)
    {
        if (line is not null)
        {
            lock (_lock)
            {
                _stderr.AppendLine(line);
            }
        }
    }

    private const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [GeneratedRegex(@"^(?<kind>node|frontend) (?<region>[a-z0-9-]+) (?<node>\S+) (?<url>https?://127\.0\.0\.1:\d+) (?<pid>\d+)$")]
    private static partial Regex NodeLine();
}
