namespace AzKv.Threading;

/// <summary>
/// The background loop of a component: <see cref="Start"/> runs a body on the thread pool with a token that
/// <see cref="DisposeAsync"/> cancels; dispose then waits for the body to end. It neither reads the clock nor
/// sleeps: a body that waits between rounds waits through its owner's <see cref="TimeProvider"/>
/// (<c>Task.Delay(interval, time, token)</c>), so a test drives it with a manual clock.
/// </summary>
/// <remarks>
/// The body owns its errors: what it catches and logs keeps the loop going. An <see cref="OperationCanceledException"/>
/// it lets out means "stopped" and is swallowed; any other exception ends the loop and is thrown by the first
/// <see cref="DisposeAsync"/>. Dispose is idempotent, because a hosted component is stopped by the host and then
/// disposed by the container (twice used to make a graceful stop exit with 1).
/// </remarks>
internal sealed class BackgroundLoop : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationToken _token;
    private Task _loop = Task.CompletedTask;
    private int _started;
    private int _disposed;

    /// <summary>Creates a loop that is not running yet.</summary>
    public BackgroundLoop() => _token = _stopping.Token;

    /// <summary>Runs <paramref name="body"/> in the background until <see cref="DisposeAsync"/> cancels its token.</summary>
    /// <exception cref="InvalidOperationException">The loop was started before.</exception>
    /// <exception cref="ObjectDisposedException">The loop was disposed.</exception>
    public void Start(Func<CancellationToken, Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The background loop is already started.");
        }

        var token = _token;
        _loop = Task.Run(() => body(token), CancellationToken.None);
    }

    /// <summary>
    /// Cancels the body's token and waits for it to end; throws what ended the body other than cancellation.
    /// A second call does nothing.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
        finally
        {
            _stopping.Dispose();
        }
    }
}
