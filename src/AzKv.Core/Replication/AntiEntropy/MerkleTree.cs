using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using AzKv.Partitions;
using AzKv.Versioning;

namespace AzKv.Replication;

/// <summary>
/// A Merkle tree over one partition's materialised state, for anti-entropy between regions: a fixed shape of
/// <see cref="Fanout"/>-ary levels over <see cref="LeafCount"/> leaf buckets. A key's bucket is given by the first
/// 12 bits of SHA-256 of its UTF-8 bytes; a leaf's hash covers, in ordinal key order, every key of the bucket with
/// its causal context and the identity of every stored version (dot, HLC, tombstone flag) — tombstones included,
/// values excluded (a dot names one write, so equal dots mean equal values). Nothing region-local (LSN, epoch,
/// idempotency window) enters, so two regions holding the same keys with the same versions have the same root
/// whatever order they applied the writes in.
/// </summary>
/// <remarks>
/// Built from an immutable <see cref="PartitionState"/> snapshot and cached with it (<see cref="Of"/>), so a peer
/// answering several requests on one snapshot hashes it once. An empty bucket hashes to zero and a node whose
/// children are all zero is zero, so empty ranges cost nothing. Hashes are SHA-256 truncated to 128 bits.
/// See docs/replication.md, "Anti-entropy".
/// </remarks>
public sealed class MerkleTree
{
    /// <summary>Children per interior node.</summary>
    public const int Fanout = 16;

    /// <summary>Levels below the root: the leaves are at level <see cref="Depth"/>.</summary>
    public const int Depth = 3;

    /// <summary>Leaf buckets: <see cref="Fanout"/>^<see cref="Depth"/> = 4,096.</summary>
    public const int LeafCount = Fanout * Fanout * Fanout;

    private static readonly ConditionalWeakTable<PartitionState, MerkleTree> Cache = new();

    private readonly UInt128[][] _levels;
    private readonly ImmutableArray<string>[] _leafKeys;

    private MerkleTree(PartitionState state, UInt128[][] levels, ImmutableArray<string>[] leafKeys)
    {
        State = state;
        _levels = levels;
        _leafKeys = leafKeys;
    }

    /// <summary>The snapshot this tree was built from.</summary>
    public PartitionState State { get; }

    /// <summary>The root hash (zero for a partition with no keys).</summary>
    public UInt128 Root => _levels[0][0];

    /// <summary>Number of nodes at <paramref name="level"/> (0 = root: 1; <see cref="Depth"/>: <see cref="LeafCount"/>).</summary>
    public static int NodesAt(int level)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, Depth);
        var count = 1;
        for (var i = 0; i < level; i++)
        {
            count *= Fanout;
        }

        return count;
    }

    /// <summary>The tree of <paramref name="state"/>, built on first use and kept with the snapshot.</summary>
    public static MerkleTree Of(PartitionState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return Cache.GetValue(state, Build);
    }

    /// <summary>Builds the tree of <paramref name="state"/> (without the cache).</summary>
    public static MerkleTree Build(PartitionState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var buckets = new List<KeyValuePair<string, SiblingSet>>?[LeafCount];
        foreach (var entry in state.Keys)
        {
            // The state iterates in ordinal key order, so every bucket is sorted too.
            (buckets[LeafOf(entry.Key)] ??= []).Add(entry);
        }

        var leaves = new UInt128[LeafCount];
        var leafKeys = new ImmutableArray<string>[LeafCount];
        for (var i = 0; i < LeafCount; i++)
        {
            var bucket = buckets[i];
            leafKeys[i] = bucket is null ? [] : [.. bucket.Select(e => e.Key)];
            leaves[i] = bucket is null ? UInt128.Zero : HashLeaf(bucket);
        }

        var levels = new UInt128[Depth + 1][];
        levels[Depth] = leaves;
        for (var level = Depth - 1; level >= 0; level--)
        {
            var below = levels[level + 1];
            var nodes = new UInt128[below.Length / Fanout];
            for (var i = 0; i < nodes.Length; i++)
            {
                nodes[i] = HashChildren(below.AsSpan(i * Fanout, Fanout));
            }

            levels[level] = nodes;
        }

        return new MerkleTree(state, levels, leafKeys);
    }

    /// <summary>The leaf bucket of <paramref name="key"/>: the first 12 bits of SHA-256 of its UTF-8 bytes.</summary>
    public static int LeafOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        var max = Encoding.UTF8.GetMaxByteCount(key.Length);
        var bytes = max <= 1024 ? stackalloc byte[max] : new byte[max];
        var length = Encoding.UTF8.GetBytes(key, bytes);
        SHA256.HashData(bytes[..length], digest);
        return ((digest[0] << 8) | digest[1]) >> 4;
    }

    /// <summary>The hash of node <paramref name="index"/> at <paramref name="level"/>.</summary>
    public UInt128 Node(int level, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, Depth);
        return _levels[level][index];
    }

    /// <summary>The hashes of the children (at <paramref name="level"/>) of each of <paramref name="parents"/> (at level − 1), in order.</summary>
    public ImmutableArray<UInt128> Children(int level, IReadOnlyList<int> parents)
    {
        ArgumentNullException.ThrowIfNull(parents);
        if (level == 0)
        {
            return [Root];
        }

        var width = NodesAt(level - 1);
        var result = ImmutableArray.CreateBuilder<UInt128>(parents.Count * Fanout);
        foreach (var parent in parents)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(parent);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(parent, width);
            result.AddRange(_levels[level].AsSpan(parent * Fanout, Fanout));
        }

        return result.MoveToImmutable();
    }

    /// <summary>The keys of leaf bucket <paramref name="leaf"/>, in ordinal order.</summary>
    public ImmutableArray<string> KeysOf(int leaf) => _leafKeys[leaf];

    /// <summary>The keys of leaf bucket <paramref name="leaf"/> with their sibling sets, in ordinal order.</summary>
    public IEnumerable<KeyValuePair<string, SiblingSet>> EntriesOf(int leaf) =>
        _leafKeys[leaf].Select(key => new KeyValuePair<string, SiblingSet>(key, State.Keys[key]));

    /// <summary>Lower-case hex of a hash (32 characters).</summary>
    public static string Format(UInt128 hash) => hash.ToString("x32", CultureInfo.InvariantCulture);

    /// <summary>Parses <see cref="Format"/>'s output; never throws.</summary>
    public static bool TryParse(string? text, out UInt128 hash) =>
        UInt128.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out hash) && text!.Length == 32;

    private static UInt128 HashLeaf(List<KeyValuePair<string, SiblingSet>> bucket)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> number = stackalloc byte[8];
        foreach (var (key, set) in bucket)
        {
            AppendString(hash, key, number);
            var context = set.Context.ToBytes();
            BinaryPrimitives.WriteInt32BigEndian(number, context.Length);
            hash.AppendData(number[..4]);
            hash.AppendData(context);
            BinaryPrimitives.WriteInt32BigEndian(number, set.Siblings.Length);
            hash.AppendData(number[..4]);
            foreach (var version in set.Siblings)
            {
                // Siblings are in canonical dot order, so equal sets hash alike.
                AppendString(hash, version.Dot.Region, number);
                BinaryPrimitives.WriteUInt64BigEndian(number, version.Dot.Counter);
                hash.AppendData(number);
                BinaryPrimitives.WriteInt64BigEndian(number, version.Hlc);
                hash.AppendData(number);
                hash.AppendData(version.IsTombstone ? [1] : [0]);
            }
        }

        return Truncate(hash.GetHashAndReset());
    }

    private static UInt128 HashChildren(ReadOnlySpan<UInt128> children)
    {
        var any = false;
        foreach (var child in children)
        {
            any |= child != UInt128.Zero;
        }

        if (!any)
        {
            return UInt128.Zero;
        }

        Span<byte> buffer = stackalloc byte[Fanout * 16];
        for (var i = 0; i < children.Length; i++)
        {
            BinaryPrimitives.WriteUInt128BigEndian(buffer.Slice(i * 16, 16), children[i]);
        }

        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(buffer, digest);
        return BinaryPrimitives.ReadUInt128BigEndian(digest[..16]);
    }

    private static void AppendString(IncrementalHash hash, string text, Span<byte> number)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        BinaryPrimitives.WriteInt32BigEndian(number, bytes.Length);
        hash.AppendData(number[..4]);
        hash.AppendData(bytes);
    }

    private static UInt128 Truncate(byte[] digest)
    {
        var value = BinaryPrimitives.ReadUInt128BigEndian(digest.AsSpan(0, 16));

        // Zero is reserved for an empty bucket.
        return value == UInt128.Zero ? UInt128.One : value;
    }
}
