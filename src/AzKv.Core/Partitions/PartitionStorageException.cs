namespace AzKv.Partitions;

/// <summary>
/// Stored partition data is unusable (a malformed manifest, a corrupt record inside a closed
/// segment, a bad checkpoint). The partition stops; nothing is skipped silently.
/// </summary>
public sealed class PartitionStorageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PartitionStorageException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
