namespace AzKv.Client;

/// <summary>The changes after a cursor, from <see cref="AzKvClient.GetChangesAsync(string?, string, CancellationToken)"/>.</summary>
public sealed class KvChangeBatch
{
    /// <summary>Creates a batch.</summary>
    public KvChangeBatch(IReadOnlyList<KvChange> changes, string cursor)
    {
        ArgumentNullException.ThrowIfNull(changes);
        ArgumentException.ThrowIfNullOrEmpty(cursor);
        Changes = changes;
        Cursor = cursor;
    }

    /// <summary>The changes, oldest first; empty when nothing changed.</summary>
    public IReadOnlyList<KvChange> Changes { get; }

    /// <summary>The cursor after every change of this batch: ask from it next time.</summary>
    public string Cursor { get; }
}
