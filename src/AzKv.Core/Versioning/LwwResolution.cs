using System.Collections.Immutable;

namespace AzKv.Versioning;

/// <summary>The outcome of <see cref="SiblingSet.ResolveLww"/>.</summary>
/// <param name="Resolved">The set reduced to the winner, with the context unchanged (a view: see the remarks of <see cref="SiblingSet.ResolveLww"/>).</param>
/// <param name="Losers">The siblings that lost, in canonical dot order; empty when there was no conflict.</param>
public readonly record struct LwwResolution(SiblingSet Resolved, ImmutableArray<VersionedValue> Losers);
