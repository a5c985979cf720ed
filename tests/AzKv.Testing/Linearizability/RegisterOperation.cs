namespace AzKv.Testing.Linearizability;

/// <summary>What a client asked a single-key register to do.</summary>
public enum RegisterOpKind
{
    /// <summary>Read the value (null: absent).</summary>
    Read,

    /// <summary>Blind write of <see cref="RegisterOperation.Value"/>.</summary>
    Write,

    /// <summary>
    /// Compare-and-swap: write <see cref="RegisterOperation.Value"/> only if the register holds
    /// <see cref="RegisterOperation.Expected"/> (null: only if absent, HTTP <c>If-None-Match: *</c>).
    /// Values are unique per write, so comparing values is comparing versions (ETags).
    /// </summary>
    Cas,

    /// <summary>Delete (a delete of an absent key reports "not found").</summary>
    Delete,
}

/// <summary>How a client saw an operation end.</summary>
public enum OperationOutcome
{
    /// <summary>Still running (not returned yet); treated as <see cref="Unknown"/> by the checker.</summary>
    Pending,

    /// <summary>Answered: it took effect (or observed) exactly as <see cref="RegisterOperation.Output"/> says.</summary>
    Ok,

    /// <summary>Answered "did not happen": the checker drops it.</summary>
    Failed,

    /// <summary>
    /// Timeout, lost connection, or an answer that does not say: it may take effect at any time
    /// after its invocation, even after the history ends, or never.
    /// </summary>
    Unknown,
}

/// <summary>
/// One operation on one key as a client saw it: invoked at <see cref="Call"/>, answered at
/// <see cref="Return"/> (logical times from one counter, see <see cref="HistoryRecorder"/>).
/// </summary>
public sealed class RegisterOperation
{
    /// <summary>Position in the history (unique).</summary>
    public required int Id { get; init; }

    /// <summary>The client (process) that issued it.</summary>
    public required int Client { get; init; }

    /// <summary>The key (histories are checked per key).</summary>
    public required string Key { get; init; }

    /// <summary>What was asked.</summary>
    public required RegisterOpKind Kind { get; init; }

    /// <summary>The value written (write, CAS).</summary>
    public string? Value { get; init; }

    /// <summary>The value a CAS expects (null: the key must be absent).</summary>
    public string? Expected { get; init; }

    /// <summary>Logical invocation time.</summary>
    public required long Call { get; init; }

    /// <summary>Logical return time (meaningful only when <see cref="Outcome"/> is Ok or Failed).</summary>
    public long Return { get; set; } = long.MaxValue;

    /// <summary>How it ended.</summary>
    public OperationOutcome Outcome { get; set; } = OperationOutcome.Pending;

    /// <summary>
    /// What an Ok answer said: a read's value (null: absent); for CAS "true"/"false" (applied or
    /// precondition failed); for delete "true"/"false" (deleted or not found).
    /// </summary>
    public string? Output { get; set; }

    /// <summary>True when the answer does not say whether it happened (unknown or never answered).</summary>
    public bool IsIndeterminate => Outcome is OperationOutcome.Unknown or OperationOutcome.Pending;

    /// <inheritdoc/>
    public override string ToString()
    {
        var input = Kind switch
        {
            RegisterOpKind.Read => "read()",
            RegisterOpKind.Write => $"write({Value})",
            RegisterOpKind.Cas => $"cas({Expected ?? "absent"} -> {Value})",
            _ => "delete()",
        };
        var output = Outcome switch
        {
            OperationOutcome.Ok when Kind == RegisterOpKind.Write => "ok",
            OperationOutcome.Ok => $"= {Output ?? "absent"}",
            OperationOutcome.Failed => "failed",
            _ => "unknown",
        };
        var returned = IsIndeterminate ? "inf" : Return.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return $"#{Id} c{Client} {Key} {input} {output} [{Call}, {returned}]";
    }
}
