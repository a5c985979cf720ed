using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Text;

namespace AzKv.Versioning;

/// <summary>
/// The state of one key as a dotted-version-vector set (Preguiça et al., "Dotted Version Vectors: Logical Clocks for
/// Optimistic Replication"): a causal <see cref="Context"/> (every write this replica has seen for the key) and the
/// <see cref="Siblings"/>, the versions no seen write has overwritten. Immutable; every operation returns a new set.
/// </summary>
/// <remarks>
/// <para>Invariants: sibling dots are distinct, each is covered by <see cref="Context"/>, and siblings are kept in
/// canonical order (region ordinal, then counter), so equal states are equal element by element.</para>
/// <para>The stored state of a key must always be the full set that <see cref="Put"/>, <see cref="Delete"/>,
/// <see cref="Apply"/> and <see cref="Merge"/> produce. <see cref="ResolveLww"/>, <see cref="Winner"/> and
/// <see cref="GetVisible"/> are views; see docs/merge-rules.md for why persisting the LWW-reduced set would let regions
/// diverge.</para>
/// </remarks>
public sealed class SiblingSet : IEquatable<SiblingSet>
{
    private SiblingSet(VersionVector context, ImmutableArray<VersionedValue> siblings)
    {
        Context = context;
        Siblings = siblings;
    }

    /// <summary>The state of a key never written: empty context, no siblings.</summary>
    public static SiblingSet Empty { get; } = new(VersionVector.Empty, []);

    /// <summary>Every write seen for this key, as a version vector. Its ETag is the key's ETag.</summary>
    public VersionVector Context { get; }

    /// <summary>The versions not overwritten by any write seen, in canonical dot order.</summary>
    public ImmutableArray<VersionedValue> Siblings { get; }

    /// <summary>True when there are no siblings (a key never written).</summary>
    public bool IsEmpty => Siblings.IsEmpty;

    /// <summary>True when there are concurrent versions (more than one sibling, tombstones included).</summary>
    public bool HasConflict => Siblings.Length > 1;

    /// <summary>
    /// The last-writer-wins sibling: the highest by <see cref="VersionedValue.CompareLww"/> (HLC, then region, then
    /// counter), tombstones included; null when there are no siblings. The same in every region for the same set.
    /// </summary>
    public VersionedValue? Winner
    {
        get
        {
            VersionedValue? winner = null;
            foreach (var sibling in Siblings)
            {
                if (winner is null || VersionedValue.CompareLww(sibling, winner) > 0)
                {
                    winner = sibling;
                }
            }

            return winner;
        }
    }

    /// <summary>Creates a set from decoded parts (checkpoints), validating the invariants and sorting the siblings.</summary>
    /// <exception cref="ArgumentException">Two siblings share a dot, or a sibling's dot is not covered by the context.</exception>
    public static SiblingSet Create(VersionVector context, IEnumerable<VersionedValue> siblings)
    {
        if (!TryCreate(context, siblings, out var set, out var error))
        {
            throw new ArgumentException(error, nameof(siblings));
        }

        return set;
    }

    /// <summary>
    /// A put accepted in <paramref name="region"/> with causal context <paramref name="context"/> (the client's ETag, or
    /// <see cref="Context"/> for a blind write). See <see cref="Write"/> for the rule.
    /// </summary>
    public WriteResult Put(string region, VersionVector context, ReadOnlyMemory<byte> value, string contentType, long hlc)
    {
        var dot = NextDot(region, context);
        return Write(context, VersionedValue.CreatePut(dot, hlc, contentType, value));
    }

    /// <summary>A delete (tombstone write) accepted in <paramref name="region"/>; same rule as <see cref="Put"/>.</summary>
    public WriteResult Delete(string region, VersionVector context, long hlc)
    {
        var dot = NextDot(region, context);
        return Write(context, VersionedValue.CreateTombstone(dot, hlc));
    }

    /// <summary>
    /// The dot the next write in <paramref name="region"/> with <paramref name="context"/> gets:
    /// <c>(region, max(Context[region], context[region]) + 1)</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The counter would overflow (only a forged context can do this).</exception>
    public Dot NextDot(string region, VersionVector context)
    {
        RegionId.ThrowIfInvalid(region, nameof(region));
        ArgumentNullException.ThrowIfNull(context);
        var seen = Math.Max(Context.Get(region), context.Get(region));
        if (seen == ulong.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(context), "The region's counter for this key is exhausted.");
        }

        return new Dot(region, seen + 1);
    }

    /// <summary>
    /// Applies a write clock (from replay of this region's WAL or from another region's log): the DVV sync of this set
    /// with the one-version set (<c>write.Context ∪ {dot}</c>, [<c>write.Version</c>]).
    /// <list type="bullet">
    /// <item>a sibling is kept unless <paramref name="write"/> covers it: <c>n ≤ write.Context[s]</c> and it is not the write's dot;</item>
    /// <item>the write's version is added unless already present or already covered by <see cref="Context"/> (then it is obsolete);</item>
    /// <item>the context becomes <c>Merge(Context, write.Context)</c> with the dot's region raised to at least its counter.</item>
    /// </list>
    /// Applying the write a set produced to that set's predecessor gives exactly the set; applying a write twice is a no-op.
    /// </summary>
    public SiblingSet Apply(CausalWrite write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var dot = write.Dot;
        var present = false;
        var builder = ImmutableArray.CreateBuilder<VersionedValue>(Siblings.Length + 1);
        foreach (var sibling in Siblings)
        {
            if (sibling.Dot == dot)
            {
                present = true;
                builder.Add(sibling);
            }
            else if (!write.Context.Covers(sibling.Dot))
            {
                builder.Add(sibling);
            }
        }

        if (!present && !Context.Covers(dot))
        {
            builder.Add(write.Version);
        }

        var context = Context.Merge(write.Context);
        if (context.Get(dot.Region) < dot.Counter)
        {
            context = context.With(dot.Region, dot.Counter);
        }

        return Build(context, builder);
    }

    /// <summary>
    /// The DVV sync of two sets: a sibling of either side is kept unless the other side's context covers its dot and
    /// the other side does not hold it (then the other side has seen it overwritten); a sibling on both sides is kept
    /// once; the context is the pointwise max. Commutative, associative and idempotent.
    /// </summary>
    public SiblingSet Merge(SiblingSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(this, other))
        {
            return this;
        }

        var builder = ImmutableArray.CreateBuilder<VersionedValue>(Siblings.Length + other.Siblings.Length);
        foreach (var sibling in Siblings)
        {
            if (other.Contains(sibling.Dot) || !other.Context.Covers(sibling.Dot))
            {
                builder.Add(sibling);
            }
        }

        foreach (var sibling in other.Siblings)
        {
            if (!Contains(sibling.Dot) && !Context.Covers(sibling.Dot))
            {
                builder.Add(sibling);
            }
        }

        return Build(Context.Merge(other.Context), builder);
    }

    /// <summary>
    /// This set as write clocks, one per sibling, so that a full-state sync (a source region's checkpoint) can be
    /// logged as ordinary WAL records: applying them in order with <see cref="Apply"/> to any set <c>x</c> gives
    /// <c>x.Merge(this)</c>. Each write's context is <see cref="Context"/> with every sibling's region lowered to just
    /// below that region's lowest sibling counter, so no write covers another sibling of this set.
    /// </summary>
    /// <remarks>
    /// Exact for every set the API produces: at most one sibling per region, whose counter equals the context's
    /// (docs/merge-rules.md, "Siblings are bounded"). For a set with stale-context siblings the replayed context
    /// claims less than <see cref="Context"/> for their regions; later records of those regions restore it.
    /// </remarks>
    public ImmutableArray<CausalWrite> ToWrites()
    {
        if (Siblings.IsEmpty)
        {
            return [];
        }

        var context = Context;
        foreach (var sibling in Siblings)
        {
            var below = sibling.Dot.Counter - 1;
            if (context.Get(sibling.Dot.Region) > below)
            {
                context = context.With(sibling.Dot.Region, below);
            }
        }

        var writes = ImmutableArray.CreateBuilder<CausalWrite>(Siblings.Length);
        foreach (var sibling in Siblings)
        {
            writes.Add(new CausalWrite(context, sibling));
        }

        return writes.MoveToImmutable();
    }

    /// <summary>
    /// Last-writer-wins resolution as a view: the set reduced to <see cref="Winner"/> (context unchanged) and the
    /// losers, for the conflict log. Use it to answer reads; keep storing the full set (docs/merge-rules.md).
    /// </summary>
    public LwwResolution ResolveLww()
    {
        if (Siblings.Length <= 1)
        {
            return new LwwResolution(this, []);
        }

        var winner = Winner!;
        var losers = ImmutableArray.CreateBuilder<VersionedValue>(Siblings.Length - 1);
        foreach (var sibling in Siblings)
        {
            if (!ReferenceEquals(sibling, winner))
            {
                losers.Add(sibling);
            }
        }

        return new LwwResolution(new SiblingSet(Context, [winner]), losers.MoveToImmutable());
    }

    /// <summary>
    /// What a read shows under <paramref name="policy"/>: for <see cref="ConflictPolicy.Lww"/> the winner, or nothing
    /// when the winner is a tombstone; for <see cref="ConflictPolicy.Siblings"/> every live (non-tombstone) sibling.
    /// </summary>
    public ImmutableArray<VersionedValue> GetVisible(ConflictPolicy policy)
    {
        if (policy == ConflictPolicy.Lww)
        {
            var winner = Winner;
            return winner is null || winner.IsTombstone ? [] : [winner];
        }

        var live = ImmutableArray.CreateBuilder<VersionedValue>(Siblings.Length);
        foreach (var sibling in Siblings)
        {
            if (!sibling.IsTombstone)
            {
                live.Add(sibling);
            }
        }

        return live.ToImmutable();
    }

    /// <summary>
    /// True when a read under <paramref name="policy"/> shows nothing (GET → 404): never written, or under LWW the
    /// winner is a tombstone, or under siblings every sibling is a tombstone.
    /// </summary>
    public bool IsDeleted(ConflictPolicy policy) => !View(policy).Exists;

    /// <summary>
    /// What every read path shows under <paramref name="policy"/> (GET, LIST, watch and the writer's preconditions):
    /// under <see cref="ConflictPolicy.Lww"/> the winner, or absent when it is a tombstone; under
    /// <see cref="ConflictPolicy.Siblings"/> the live (non-tombstone) versions: none → absent, one → that value,
    /// several → siblings. So a delete concurrent with an update hides the key under LWW when the delete wins,
    /// and shows the update under siblings, on every path alike. Allocates only for several live siblings.
    /// </summary>
    public ReadView View(ConflictPolicy policy)
    {
        if (policy == ConflictPolicy.Lww || Siblings.Length <= 1)
        {
            var winner = Winner;
            return winner is null || winner.IsTombstone ? ReadView.Absent : ReadView.Single(winner);
        }

        VersionedValue? best = null;
        var live = 0;
        foreach (var sibling in Siblings)
        {
            if (sibling.IsTombstone)
            {
                continue;
            }

            live++;
            if (best is null || VersionedValue.CompareLww(sibling, best) > 0)
            {
                best = sibling;
            }
        }

        return live switch
        {
            0 => ReadView.Absent,
            1 => ReadView.Single(best!),
            _ => ReadView.Multiple(best!, GetVisible(ConflictPolicy.Siblings)),
        };
    }

    /// <summary>True when a sibling has exactly this dot.</summary>
    public bool Contains(Dot dot)
    {
        foreach (var sibling in Siblings)
        {
            if (sibling.Dot == dot)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Value equality: same context and element-wise equal siblings.</summary>
    public bool Equals(SiblingSet? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || !Context.Equals(other.Context) || Siblings.Length != other.Siblings.Length)
        {
            return false;
        }

        for (var i = 0; i < Siblings.Length; i++)
        {
            if (!Siblings[i].Equals(other.Siblings[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as SiblingSet);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.Add(Context);
        foreach (var sibling in Siblings)
        {
            hash.Add(sibling.Dot);
        }

        return hash.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var builder = new StringBuilder().Append(Context).Append(" {");
        for (var i = 0; i < Siblings.Length; i++)
        {
            builder.Append(i == 0 ? " " : ", ").Append(Siblings[i]);
        }

        return builder.Append(" }").ToString();
    }

    /// <summary>Validating factory that never throws (checkpoint decoding).</summary>
    internal static bool TryCreate(
        VersionVector context,
        IEnumerable<VersionedValue> siblings,
        out SiblingSet set,
        out string? error)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(siblings);
        set = Empty;
        var builder = ImmutableArray.CreateBuilder<VersionedValue>();
        foreach (var sibling in siblings)
        {
            ArgumentNullException.ThrowIfNull(sibling, nameof(siblings));
            if (!context.Covers(sibling.Dot))
            {
                error = $"Sibling {sibling.Dot} is not covered by the context {context}.";
                return false;
            }

            builder.Add(sibling);
        }

        builder.Sort(static (a, b) => Dot.CompareCanonical(a.Dot, b.Dot));
        for (var i = 1; i < builder.Count; i++)
        {
            if (builder[i - 1].Dot == builder[i].Dot)
            {
                error = $"Two siblings share the dot {builder[i].Dot}.";
                return false;
            }
        }

        set = context.IsEmpty && builder.Count == 0 ? Empty : new SiblingSet(context, builder.ToImmutable());
        error = null;
        return true;
    }

    private WriteResult Write(VersionVector context, VersionedValue version)
    {
        var write = new CausalWrite(context, version);

        // The siblings the write does not cover, then the write's version, in an array of the exact size
        // handed to the set without a copy (the usual blind write keeps none: one element). The new
        // version is never one of the old ones, so the set always changes (no Build shortcut needed).
        var kept = 0;
        foreach (var sibling in Siblings)
        {
            if (!context.Covers(sibling.Dot))
            {
                kept++;
            }
        }

        var siblings = new VersionedValue[kept + 1];
        var next = 0;
        foreach (var sibling in Siblings)
        {
            if (!context.Covers(sibling.Dot))
            {
                siblings[next++] = sibling;
            }
        }

        siblings[next] = version;
        if (siblings.Length > 1)
        {
            Array.Sort(siblings, static (a, b) => Dot.CompareCanonical(a.Dot, b.Dot));
        }

        var state = new SiblingSet(Context.Merge(context).With(version.Dot.Region, version.Dot.Counter), ImmutableCollectionsMarshal.AsImmutableArray(siblings));
        return new WriteResult(state, write);
    }

    private SiblingSet Build(VersionVector context, ImmutableArray<VersionedValue>.Builder siblings)
    {
        if (context.Equals(Context) && siblings.Count == Siblings.Length)
        {
            var same = true;
            for (var i = 0; i < siblings.Count && same; i++)
            {
                same = ReferenceEquals(siblings[i], Siblings[i]);
            }

            if (same)
            {
                return this;
            }
        }

        siblings.Sort(static (a, b) => Dot.CompareCanonical(a.Dot, b.Dot));
        return new SiblingSet(context, siblings.ToImmutable());
    }
}
