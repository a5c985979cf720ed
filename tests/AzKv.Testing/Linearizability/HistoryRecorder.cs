namespace AzKv.Testing.Linearizability;

/// <summary>
/// Records client operations with logical times from one counter: an operation is invoked
/// (<see cref="Invoke"/>) before the request is made and completed (<see cref="Complete"/>) after
/// the answer is seen, so the recorded interval always contains the real one. Thread-safe.
/// </summary>
public sealed class HistoryRecorder
{
    private readonly Lock _lock = new();
    private readonly List<RegisterOperation> _operations = [];
    private long _now;

    /// <summary>Every operation so far, in invocation order.</summary>
    public IReadOnlyList<RegisterOperation> Operations
    {
        get
        {
            lock (_lock)
            {
                return [.. _operations];
            }
        }
    }

    /// <summary>Records an invocation; complete it later with <see cref="Complete"/>.</summary>
    public RegisterOperation Invoke(int client, string key, RegisterOpKind kind, string? value = null, string? expected = null)
    {
        lock (_lock)
        {
            var operation = new RegisterOperation
            {
                Id = _operations.Count,
                Client = client,
                Key = key,
                Kind = kind,
                Value = value,
                Expected = expected,
                Call = ++_now,
            };
            _operations.Add(operation);
            return operation;
        }
    }

    /// <summary>Records the answer (or that there will be none: <see cref="OperationOutcome.Unknown"/>).</summary>
    public void Complete(RegisterOperation operation, OperationOutcome outcome, string? output = null)
    {
        ArgumentNullException.ThrowIfNull(operation);
        lock (_lock)
        {
            if (operation.Outcome != OperationOutcome.Pending)
            {
                throw new InvalidOperationException($"Operation {operation} completed twice.");
            }

            operation.Outcome = outcome;
            operation.Output = output;
            operation.Return = ++_now;
        }
    }
}
