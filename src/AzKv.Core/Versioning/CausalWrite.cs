namespace AzKv.Versioning;

/// <summary>
/// The dotted-version-vector clock of one write, with its version: the client's causal context <see cref="Context"/>
/// (what the writer had seen and so overwrites) and the new <see cref="Version"/> with its dot. This is exactly what a
/// WAL record carries (plus key and LSN), what replay applies, and what other regions apply; see
/// <see cref="SiblingSet.Apply(CausalWrite)"/> and docs/merge-rules.md.
/// </summary>
public sealed class CausalWrite : IEquatable<CausalWrite>
{
    /// <summary>Creates a write clock.</summary>
    /// <exception cref="ArgumentException">The context already covers the version's dot (a write cannot overwrite itself).</exception>
    public CausalWrite(VersionVector context, VersionedValue version)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(version);
        if (context.Covers(version.Dot))
        {
            throw new ArgumentException(
                $"The context {context} already covers the write's dot {version.Dot}.", nameof(context));
        }

        Context = context;
        Version = version;
    }

    /// <summary>The causal context the write was made with: every dot it covers is overwritten.</summary>
    public VersionVector Context { get; }

    /// <summary>The new version.</summary>
    public VersionedValue Version { get; }

    /// <summary>The write's dot (origin region and counter).</summary>
    public Dot Dot => Version.Dot;

    /// <summary>True when this DVV clock covers <paramref name="dot"/>: <c>dot.Counter ≤ Context[dot.Region]</c> or it is this write's dot.</summary>
    public bool Covers(Dot dot) => dot == Version.Dot || Context.Covers(dot);

    /// <inheritdoc/>
    public bool Equals(CausalWrite? other) =>
        other is not null && (ReferenceEquals(this, other) || (Context.Equals(other.Context) && Version.Equals(other.Version)));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as CausalWrite);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Context, Version);

    /// <inheritdoc/>
    public override string ToString() => $"({Context}, {Version})";
}
