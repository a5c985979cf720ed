using System.Globalization;

namespace AzKv.Wal;

/// <summary>
/// Stored data (a WAL segment in the middle, a checkpoint) failed validation: bad magic, version, length or CRC, or
/// a malformed field. Never retried and never skipped: the partition stops and an operator looks at the blob.
/// </summary>
public sealed class CorruptDataException : Exception
{
    /// <summary>Creates the exception; the message names the blob and the byte offset.</summary>
    public CorruptDataException(string sourceName, long offset, string reason, Exception? innerException = null)
        : base(
            string.Create(CultureInfo.InvariantCulture, $"Corrupt data in '{sourceName}' at offset {offset}: {reason}"),
            innerException)
    {
        SourceName = sourceName;
        Offset = offset;
        Reason = reason;
    }

    /// <summary>The blob (or other source) that holds the bad bytes.</summary>
    public string SourceName { get; }

    /// <summary>Byte offset in the source where the bad record or field starts.</summary>
    public long Offset { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Reason { get; }
}
