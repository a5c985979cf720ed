namespace AzKv.Wal;

/// <summary>The kind of a WAL record (one byte on disk; values not listed are reserved and decode as corrupt).</summary>
public enum WalRecordType : byte
{
    /// <summary>A value was written.</summary>
    Put = 1,

    /// <summary>A tombstone was written (no value, no content type).</summary>
    Delete = 2,
}
