namespace AzKv.Versioning;

/// <summary>How concurrent versions of a key are shown (configured per key prefix).</summary>
public enum ConflictPolicy
{
    /// <summary>
    /// Last writer wins: the visible version is <see cref="SiblingSet.Winner"/>, the sibling with the highest
    /// (HLC, region, counter). The other siblings are losers, recorded in the conflict log.
    /// </summary>
    Lww = 0,

    /// <summary>All live (non-tombstone) siblings are visible; a write with the set's context resolves them.</summary>
    Siblings = 1,
}
