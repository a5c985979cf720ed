namespace AzKv.Client;

/// <summary>
/// A request failed: the server answered with an error (an RFC 9457 problem, parsed into
/// <see cref="Status"/>, <see cref="ProblemType"/>, <see cref="Title"/> and <see cref="Detail"/>),
/// or no endpoint answered at all (<see cref="Status"/> 0). Expected outcomes such as "not found"
/// are results, not exceptions.
/// </summary>
public class AzKvException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AzKvException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public AzKvException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception from a server answer.</summary>
    public AzKvException(string message, int status, string? problemType, string? title, string? detail, Exception? innerException = null)
        : base(message, innerException)
    {
        Status = status;
        ProblemType = problemType;
        Title = title;
        Detail = detail;
    }

    /// <summary>The HTTP status code, or 0 when no server answered.</summary>
    public int Status { get; }

    /// <summary>The problem <c>type</c> URI, e.g. <see cref="AzKvProblemTypes.InvalidKey"/>; null when the body was not a problem document.</summary>
    public string? ProblemType { get; }

    /// <summary>The problem's short summary.</summary>
    public string? Title { get; }

    /// <summary>The problem's explanation of this occurrence.</summary>
    public string? Detail { get; }
}

/// <summary>An <c>If-Match</c> or <c>If-None-Match</c> condition did not hold (412): the key changed, or already exists.</summary>
public sealed class AzKvPreconditionFailedException : AzKvException
{
    /// <summary>Creates the exception.</summary>
    public AzKvPreconditionFailedException(string message, string? problemType = AzKvProblemTypes.PreconditionFailed, string? title = null, string? detail = null)
        : base(message, 412, problemType, title, detail)
    {
    }
}

/// <summary>
/// A watch cursor is older than the change history the server keeps (410 <c>cursor-expired</c>).
/// List the keys again, then watch from a cursor taken before the listing
/// (<see cref="AzKvClient.GetWatchCursorAsync"/>).
/// </summary>
public sealed class AzKvCursorExpiredException : AzKvException
{
    /// <summary>Creates the exception.</summary>
    public AzKvCursorExpiredException(string message, string? cursor, string? problemType = AzKvProblemTypes.CursorExpired, string? title = null, string? detail = null)
        : base(message, 410, problemType, title, detail)
    {
        Cursor = cursor;
    }

    /// <summary>The cursor the server refused.</summary>
    public string? Cursor { get; }
}

/// <summary>
/// A conditional write (<c>If-Match</c> / <c>If-None-Match</c>) may or may not have been applied:
/// the server answered 504 <c>outcome-unknown</c>, or the request was sent and no answer came. The
/// client does not retry it (a retry could fail its precondition on its own first attempt, or
/// apply a compare-and-swap twice): read the key and decide.
/// </summary>
public sealed class AzKvOutcomeUnknownException : AzKvException
{
    /// <summary>Creates the exception.</summary>
    public AzKvOutcomeUnknownException(string message, int status = 504, string? problemType = AzKvProblemTypes.OutcomeUnknown, string? title = null, string? detail = null, Exception? innerException = null)
        : base(message, status, problemType, title, detail, innerException)
    {
    }
}

/// <summary>No endpoint could be reached (connection refused, name not resolved, timed out) after every retry.</summary>
public sealed class AzKvConnectionException : AzKvException
{
    /// <summary>Creates the exception.</summary>
    public AzKvConnectionException(string message, IReadOnlyList<Uri> endpoints, Exception? innerException)
        : base(message, innerException)
    {
        Endpoints = endpoints;
    }

    /// <summary>The endpoints that were tried.</summary>
    public IReadOnlyList<Uri> Endpoints { get; }
}
