namespace AzKv.Versioning;

/// <summary>How two version vectors relate in the causal (pointwise) partial order.</summary>
public enum VersionVectorOrder
{
    /// <summary>Every counter is equal.</summary>
    Equal = 0,

    /// <summary>The first is dominated: every counter ≤ and at least one &lt;.</summary>
    Before = 1,

    /// <summary>The first dominates: every counter ≥ and at least one &gt;.</summary>
    After = 2,

    /// <summary>Neither dominates: each has a counter greater than the other's.</summary>
    Concurrent = 3,
}
