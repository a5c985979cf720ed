using System.Collections.Immutable;
using AzKv.Partitions;
using AzKv.Versioning;

namespace AzKv.Replication;

/// <summary>
/// Another region's partitions as anti-entropy sees them: its Merkle trees, level by level, and the sibling sets
/// of whole leaf buckets. The I/O seam between <see cref="AntiEntropyVerifier"/> and the peer (the peer owner's
/// internal endpoint in the server; a partition state in process for tests).
/// </summary>
public interface IAntiEntropyPeer
{
    /// <summary>The peer region.</summary>
    string Region { get; }

    /// <summary>
    /// The hashes of the children at <paramref name="level"/> of each of <paramref name="parents"/> (nodes at
    /// <paramref name="level"/> − 1), <see cref="MerkleTree.Fanout"/> per parent in order; for level 0 the root alone.
    /// </summary>
    /// <exception cref="AntiEntropyPeerException">The peer cannot answer (unreachable, not serving the partition, another tree shape).</exception>
    Task<ImmutableArray<UInt128>> GetNodesAsync(int partition, int level, IReadOnlyList<int> parents, CancellationToken cancellationToken);

    /// <summary>Every key of the given leaf buckets with its full sibling set (values included).</summary>
    /// <exception cref="AntiEntropyPeerException">The peer cannot answer.</exception>
    Task<IReadOnlyList<KeyValuePair<string, SiblingSet>>> GetLeavesAsync(int partition, IReadOnlyList<int> leaves, CancellationToken cancellationToken);
}

/// <summary>The peer could not answer an anti-entropy request.</summary>
public sealed class AntiEntropyPeerException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AntiEntropyPeerException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>
/// A peer whose partition states are in this process (a test, or one process hosting several regions): answers
/// from <see cref="MerkleTree.Of"/> of the current snapshot, exactly as the server's internal endpoint does.
/// </summary>
/// <param name="region">The peer region.</param>
/// <param name="stateOf">The peer's current state of a partition, or null when it does not serve it.</param>
public sealed class InProcessAntiEntropyPeer(string region, Func<int, PartitionState?> stateOf) : IAntiEntropyPeer
{
    /// <inheritdoc/>
    public string Region { get; } = region;

    /// <inheritdoc/>
    public Task<ImmutableArray<UInt128>> GetNodesAsync(int partition, int level, IReadOnlyList<int> parents, CancellationToken cancellationToken) =>
        Task.FromResult(MerkleTree.Of(StateOf(partition)).Children(level, parents));

    /// <inheritdoc/>
    public Task<IReadOnlyList<KeyValuePair<string, SiblingSet>>> GetLeavesAsync(int partition, IReadOnlyList<int> leaves, CancellationToken cancellationToken)
    {
        var tree = MerkleTree.Of(StateOf(partition));
        IReadOnlyList<KeyValuePair<string, SiblingSet>> entries = [.. leaves.SelectMany(tree.EntriesOf)];
        return Task.FromResult(entries);
    }

    private PartitionState StateOf(int partition) =>
        stateOf(partition) ?? throw new AntiEntropyPeerException($"Region {Region} does not serve partition {partition} here.");
}
