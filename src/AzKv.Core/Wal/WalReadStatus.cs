namespace AzKv.Wal;

/// <summary>The outcome of <see cref="WalReader.TryReadNext(ReadOnlySpan{byte}, out WalRecordView, out int)"/>.</summary>
public enum WalReadStatus
{
    /// <summary>A whole, valid record was decoded.</summary>
    Ok = 0,

    /// <summary>
    /// The buffer ends inside a record: fetch more bytes, or, at the end of a segment, it is a torn tail. An empty buffer
    /// is Incomplete too. (A length field damaged upwards in the last record also shows as Incomplete; at the end of a
    /// segment whose length is known and final, treat it like corruption of the tail.)
    /// </summary>
    Incomplete = 1,

    /// <summary>The bytes are not a valid record (length out of range, CRC mismatch, bad field).</summary>
    Corrupt = 2,
}
