using System.Collections.Immutable;

namespace AzKv.Versioning;

/// <summary>What a read of a key shows (see <see cref="SiblingSet.View"/>).</summary>
public enum ReadViewKind
{
    /// <summary>Nothing: never written, or deleted (GET → 404; LIST skips it; watch says "delete").</summary>
    Absent,

    /// <summary>One value (GET → 200).</summary>
    Value,

    /// <summary>Concurrent live versions under the <c>siblings</c> policy (GET → 300).</summary>
    Siblings,
}

/// <summary>
/// The one read model of a key under its conflict policy, used by GET, LIST, watch and the
/// writer's precondition checks so that they never disagree about whether a key exists.
/// </summary>
public readonly struct ReadView
{
    private readonly ImmutableArray<VersionedValue> _siblings;

    private ReadView(ReadViewKind kind, VersionedValue? value, ImmutableArray<VersionedValue> siblings)
    {
        Kind = kind;
        Value = value;
        _siblings = siblings;
    }

    /// <summary>The view of an absent or deleted key.</summary>
    public static ReadView Absent => default;

    /// <summary>Absent, one value, or siblings.</summary>
    public ReadViewKind Kind { get; }

    /// <summary>True unless <see cref="ReadViewKind.Absent"/>: the key exists for GET, LIST, watch and preconditions.</summary>
    public bool Exists => Kind != ReadViewKind.Absent;

    /// <summary>
    /// The value a read shows: the one value, or for siblings the highest by LWW order among the
    /// live ones (what LIST and watch report as content type and size); null when absent.
    /// </summary>
    public VersionedValue? Value { get; }

    /// <summary>Every live version, for <see cref="ReadViewKind.Siblings"/> (two or more); empty otherwise.</summary>
    public ImmutableArray<VersionedValue> Siblings => _siblings.IsDefault ? [] : _siblings;

    internal static ReadView Single(VersionedValue value) => new(ReadViewKind.Value, value, default);

    internal static ReadView Multiple(VersionedValue primary, ImmutableArray<VersionedValue> live) => new(ReadViewKind.Siblings, primary, live);
}
