using System.Runtime.InteropServices;

namespace AzKv.Cli.Platform;

/// <summary>
/// Turns the first SIGINT (Ctrl-C) or SIGTERM into a cancellation so the command can stop
/// cleanly; a second signal is left to its default action (the process ends at once).
/// </summary>
internal sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly PosixSignalRegistration[] _registrations;
    private int _signals;

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
        if (Interlocked.Increment(ref _signals) == 1)
        {
            context.Cancel = true;
            _source.Cancel();
        }
    }
}
