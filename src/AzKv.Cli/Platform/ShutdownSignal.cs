using System.Runtime.InteropServices;

namespace AzKv.Cli.Platform;

/// <summary>
/// Turns SIGINT (Ctrl-C) and SIGTERM into a cancellation so the command can stop cleanly.
/// Every signal is handled, not just the first: supervisors often send SIGTERM twice (GNU
/// <c>timeout</c> signals the process and then its group), and a second signal must not cut a
/// graceful stop short. Stopping is bounded anyway (nodes get 15 s, then are killed).
/// </summary>
internal sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly PosixSignalRegistration[] _registrations;

    public ShutdownSignal(CancellationToken cancellationToken)
    {
        _source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
        ];
    }

    /// <summary>Cancelled on the first signal (or when the outer token is).</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>True once a signal (or the outer token) asked to stop.</summary>
    public bool IsRequested => _source.IsCancellationRequested;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _source.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        try
        {
            _source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The command already finished.
        }
    }
}
