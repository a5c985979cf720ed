namespace AzKv.Checkpoints;

/// <summary>The header of a checkpoint: which partition, at which LSN, how many keys.</summary>
/// <param name="PartitionId">The partition (0-based).</param>
/// <param name="Lsn">The LSN the state includes: replay resumes with the record after it.</param>
/// <param name="KeyCount">Number of key entries that follow.</param>
/// <param name="Format">The format version (2: an idempotency section follows the key entries).</param>
public readonly record struct CheckpointHeader(int PartitionId, ulong Lsn, long KeyCount, byte Format = 1);
