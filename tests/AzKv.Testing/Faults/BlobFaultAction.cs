using AzKv.Storage;

namespace AzKv.Testing;

/// <summary>What <see cref="BlobFaults"/> does to one request: nothing, delay it, fail it, or lose its response.</summary>
public sealed class BlobFaultAction
{
    private BlobFaultAction(BlobFaultKind kind, int status, string? errorCode, TimeSpan delay, bool realTimeDelay)
    {
        Kind = kind;
        Status = status;
        ErrorCode = errorCode;
        Delay = delay;
        RealTimeDelay = realTimeDelay;
    }

    /// <summary>Let the request through unchanged.</summary>
    public static BlobFaultAction None { get; } = new(BlobFaultKind.None, 0, null, TimeSpan.Zero, false);

    /// <summary>Fail before anything happens with 503 ServerBusy (throttling; transient).</summary>
    public static BlobFaultAction ServerBusy { get; } = Fail(503, BlobErrorCodes.ServerBusy);

    /// <summary>Fail before anything happens with 500 InternalError (transient).</summary>
    public static BlobFaultAction InternalError { get; } = Fail(500, BlobErrorCodes.InternalError);

    /// <summary>
    /// Lose the request: nothing happens and the caller gets status 0 / <see cref="BlobErrorCodes.NoResponse"/>,
    /// so it cannot tell this from <see cref="LoseResponse"/>.
    /// </summary>
    public static BlobFaultAction LoseRequest { get; } = Fail(0, BlobErrorCodes.NoResponse);

    /// <summary>
    /// Lose the response: the operation is performed (or fails on its own), then the caller gets
    /// status 0 / <see cref="BlobErrorCodes.NoResponse"/> instead of the outcome.
    /// </summary>
    public static BlobFaultAction LoseResponse { get; } = new(BlobFaultKind.LoseResponse, 0, BlobErrorCodes.NoResponse, TimeSpan.Zero, false);

    /// <summary>What happens to the request.</summary>
    public BlobFaultKind Kind { get; }

    /// <summary>For <see cref="BlobFaultKind.Fail"/>: the HTTP status of the failure (0 = no response).</summary>
    public int Status { get; }

    /// <summary>For <see cref="BlobFaultKind.Fail"/> and <see cref="BlobFaultKind.LoseResponse"/>: the error code.</summary>
    public string? ErrorCode { get; }

    /// <summary>Latency added before the request reaches the store.</summary>
    public TimeSpan Delay { get; }

    /// <summary>
    /// False (the default): <see cref="Delay"/> is awaited on the store's <see cref="TimeProvider"/>, so on a
    /// <see cref="ManualTimeProvider"/> the request waits until the test advances the clock. True: a real delay.
    /// </summary>
    public bool RealTimeDelay { get; }

    /// <summary>Fail before anything happens with this status and error code.</summary>
    public static BlobFaultAction Fail(int status, string? errorCode)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(status);
        return new(BlobFaultKind.Fail, status, errorCode, TimeSpan.Zero, false);
    }

    /// <summary>Only delay the request (see <see cref="RealTimeDelay"/> for which clock).</summary>
    public static BlobFaultAction Delayed(TimeSpan delay, bool realTime = false) => None.WithDelay(delay, realTime);

    /// <summary>This action, delayed first by <paramref name="delay"/> (see <see cref="RealTimeDelay"/>).</summary>
    public BlobFaultAction WithDelay(TimeSpan delay, bool realTime = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        return new(Kind, Status, ErrorCode, delay, realTime);
    }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        BlobFaultKind.Fail => $"Fail {Status} {ErrorCode}" + DelayText(),
        BlobFaultKind.LoseResponse => "LoseResponse" + DelayText(),
        _ => "None" + DelayText(),
    };

    private string DelayText() => Delay > TimeSpan.Zero ? $" after {Delay}{(RealTimeDelay ? " (real time)" : string.Empty)}" : string.Empty;
}

/// <summary>The kind of a <see cref="BlobFaultAction"/>.</summary>
public enum BlobFaultKind
{
    /// <summary>The request goes through (perhaps delayed).</summary>
    None,

    /// <summary>The request fails before it is performed.</summary>
    Fail,

    /// <summary>The request is performed, then its response is lost.</summary>
    LoseResponse,
}
