using System.Text;
using AzKv.Versioning;

namespace AzKv.Core.Tests.Versioning;

public sealed partial class SiblingSetTests
{
    private static readonly VersionVector None = VersionVector.Empty;

    [Fact]
    public void View_WhenADeleteIsConcurrentWithAnUpdate_ShowsTheUpdateUnderSiblingsAndNothingUnderLwwWhenTheDeleteWins()
    {
        var first = SiblingSet.Empty.Put("a", None, Bytes("v1"), "text/plain", 1).State;
        var update = first.Put("a", first.Context, Bytes("v2"), "text/plain", 2).State;
        var delete = first.Delete("b", first.Context, 3).Write; // later HLC: the tombstone wins under LWW

        var merged = update.Apply(delete);

        var siblings = merged.View(ConflictPolicy.Siblings);
        Assert.Equal(ReadViewKind.Value, siblings.Kind);
        Assert.Equal("v2", Text(siblings.Value!));
        Assert.Empty(siblings.Siblings);
        Assert.Equal(ReadViewKind.Absent, merged.View(ConflictPolicy.Lww).Kind);
        Assert.False(merged.IsDeleted(ConflictPolicy.Siblings));
        Assert.True(merged.IsDeleted(ConflictPolicy.Lww));
    }

    [Fact]
    public void View_WhenTwoUpdatesAreConcurrentUnderSiblings_ShowsBothAndTheLwwHighestAsValue()
    {
        var first = SiblingSet.Empty.Put("a", None, Bytes("v1"), "text/plain", 1).State;
        var fromA = first.Put("a", first.Context, Bytes("a2"), "text/plain", 2).State;
        var fromB = first.Put("b", first.Context, Bytes("b2"), "text/plain", 3).Write;

        var view = fromA.Apply(fromB).View(ConflictPolicy.Siblings);

        Assert.Equal(ReadViewKind.Siblings, view.Kind);
        Assert.Equal(["a2", "b2"], view.Siblings.Select(Text).Order());
        Assert.Equal("b2", Text(view.Value!));
    }

    [Fact]
    public void Put_WhenKeyIsNew_CreatesDotOneAndContext()
    {
        var result = SiblingSet.Empty.Put("a", None, Bytes("v1"), "text/plain", 100);

        var sibling = Assert.Single(result.State.Siblings);
        Assert.Equal(new Dot("a", 1), sibling.Dot);
        Assert.Equal("v1", Text(sibling));
        Assert.Equal("text/plain", sibling.ContentType);
        Assert.Equal(100, sibling.Hlc);
        Assert.Equal(VersionVector.Create(("a", 1)), result.State.Context);
        Assert.Equal(None, result.Write.Context);
        Assert.Equal(new Dot("a", 1), result.Write.Dot);
    }

    [Fact]
    public void Put_WhenContextCoversSibling_ReplacesIt()
    {
        var first = SiblingSet.Empty.Put("a", None, Bytes("v1"), "", 1).State;

        var second = first.Put("a", first.Context, Bytes("v2"), "", 2).State;

        var sibling = Assert.Single(second.Siblings);
        Assert.Equal(new Dot("a", 2), sibling.Dot);
        Assert.Equal(VersionVector.Create(("a", 2)), second.Context);
    }

    [Fact]
    public void Put_WhenContextIsStale_KeepsUncoveredSiblingAndTakesNextCounter()
    {
        var first = SiblingSet.Empty.Put("a", None, Bytes("v1"), "", 1).State;

        var second = first.Put("a", None, Bytes("v2"), "", 2).State;

        Assert.Equal([new Dot("a", 1), new Dot("a", 2)], second.Siblings.Select(s => s.Dot));
        Assert.Equal(VersionVector.Create(("a", 2)), second.Context);
    }

    [Fact]
    public void Put_WhenClientContextIsAheadOfReplica_MergesItAndCountsFromIt()
    {
        var state = SiblingSet.Empty.Put("a", None, Bytes("v1"), "", 1).State;
        var clientContext = VersionVector.Create(("a", 5), ("b", 3));

        var result = state.Put("a", clientContext, Bytes("v2"), "", 2);

        Assert.Equal(new Dot("a", 6), result.Write.Dot);
        Assert.Equal(VersionVector.Create(("a", 6), ("b", 3)), result.State.Context);
        Assert.Equal(new Dot("a", 6), Assert.Single(result.State.Siblings).Dot);
    }

    [Fact]
    public void NextDot_WhenCounterWouldOverflow_Throws()
    {
        var forged = VersionVector.Create(("a", ulong.MaxValue));

        Assert.Throws<ArgumentOutOfRangeException>(() => SiblingSet.Empty.NextDot("a", forged));
    }

    [Fact]
    public void Delete_WhenContextCoversValue_LeavesOnlyTombstone()
    {
        var put = SiblingSet.Empty.Put("a", None, Bytes("v1"), "text/plain", 1).State;

        var deleted = put.Delete("a", put.Context, 2).State;

        var sibling = Assert.Single(deleted.Siblings);
        Assert.True(sibling.IsTombstone);
        Assert.True(sibling.Value.IsEmpty);
        Assert.Equal(string.Empty, sibling.ContentType);
        Assert.True(deleted.IsDeleted(ConflictPolicy.Lww));
        Assert.True(deleted.IsDeleted(ConflictPolicy.Siblings));
    }

    [Fact]
    public void Apply_WhenRecordComesFromAnotherRegion_AddsConcurrentSibling()
    {
        var inA = SiblingSet.Empty.Put("a", None, Bytes("from a"), "", 10);
        var inB = SiblingSet.Empty.Put("b", None, Bytes("from b"), "", 20);

        var merged = inB.State.Apply(inA.Write);

        Assert.Equal([new Dot("a", 1), new Dot("b", 1)], merged.Siblings.Select(s => s.Dot));
        Assert.Equal(VersionVector.Create(("a", 1), ("b", 1)), merged.Context);
        Assert.True(merged.HasConflict);
    }

    [Fact]
    public void Apply_WhenRecordOverwritesSiblingRemotely_RemovesIt()
    {
        var inA = SiblingSet.Empty.Put("a", None, Bytes("v1"), "", 1);
        var inB = SiblingSet.Empty.Apply(inA.Write);
        var overwrite = inB.Put("b", inB.Context, Bytes("v2"), "", 2);

        var backInA = inA.State.Apply(overwrite.Write);

        Assert.Equal(new Dot("b", 1), Assert.Single(backInA.Siblings).Dot);
        Assert.Equal(overwrite.State, backInA);
    }

    [Fact]
    public void Apply_WhenRecordWasAlreadyOverwritten_DoesNotResurrectIt()
    {
        var first = SiblingSet.Empty.Put("a", None, Bytes("v1"), "", 1);
        var second = first.State.Put("a", first.State.Context, Bytes("v2"), "", 2);

        var replayed = second.State.Apply(first.Write);

        Assert.Same(second.State, replayed);
    }

    [Fact]
    public void Apply_WhenAppliedToPredecessor_EqualsWriteResult()
    {
        var start = SiblingSet.Empty.Put("a", None, Bytes("v1"), "", 1).State
            .Apply(SiblingSet.Empty.Put("b", None, Bytes("w"), "", 1).Write);

        var result = start.Put("a", VersionVector.Create(("a", 1)), Bytes("v2"), "", 3);

        Assert.Equal(result.State, start.Apply(result.Write));
        Assert.Equal([new Dot("a", 2), new Dot("b", 1)], result.State.Siblings.Select(s => s.Dot));
    }

    [Fact]
    public void Apply_WhenAppliedTwice_ReturnsSameState()
    {
        var result = SiblingSet.Empty.Put("a", None, Bytes("v1"), "", 1);

        Assert.Same(result.State, result.State.Apply(result.Write));
    }

    [Fact]
    public void Apply_WhenContextHasGapFromStaleClient_KeepsSiblingInGap()
    {
        // In a: (a,1) then (a,2) written with a stale (empty) context: both are siblings. A third write with context
        // {a:1} covers (a,1) only; replaying it elsewhere must keep (a,2), which its context does not cover.
        var s1 = SiblingSet.Empty.Put("a", None, Bytes("1"), "", 1);
        var s2 = s1.State.Put("a", None, Bytes("2"), "", 2);
        var s3 = s2.State.Put("a", VersionVector.Create(("a", 1)), Bytes("3"), "", 3);

        var replica = SiblingSet.Empty.Apply(s1.Write).Apply(s2.Write).Apply(s3.Write);

        Assert.Equal([new Dot("a", 2), new Dot("a", 3)], replica.Siblings.Select(s => s.Dot));
        Assert.Equal(s3.State, replica);
    }

    [Fact]
    public void Merge_WhenOtherSideOverwroteSibling_DropsIt()
    {
        var inA = SiblingSet.Empty.Put("a", None, Bytes("v1"), "", 1).State;
        var inB = SiblingSet.Empty.Merge(inA);
        inB = inB.Put("b", inB.Context, Bytes("v2"), "", 2).State;

        var merged = inA.Merge(inB);

        Assert.Equal(new Dot("b", 1), Assert.Single(merged.Siblings).Dot);
        Assert.Equal(VersionVector.Create(("a", 1), ("b", 1)), merged.Context);
    }

    [Fact]
    public void Merge_WhenSameSiblingOnBothSides_KeepsItOnce()
    {
        var inA = SiblingSet.Empty.Put("a", None, Bytes("v1"), "", 1).State;
        var inB = SiblingSet.Empty.Merge(inA).Merge(SiblingSet.Empty.Put("b", None, Bytes("w"), "", 1).State);

        var merged = inA.Merge(inB);

        Assert.Equal([new Dot("a", 1), new Dot("b", 1)], merged.Siblings.Select(s => s.Dot));
    }

    [Fact]
    public void Winner_WhenHlcsDiffer_ReturnsHighestHlc()
    {
        var set = Concurrent(("a", 30), ("b", 20), ("c", 10));

        Assert.Equal(new Dot("a", 1), set.Winner!.Dot);
    }

    [Fact]
    public void Winner_WhenHlcsTie_ReturnsHighestRegionOrdinal()
    {
        var set = Concurrent(("B", 5), ("a", 5), ("A", 5));

        // Ordinal: "A" < "B" < "a".
        Assert.Equal(new Dot("a", 1), set.Winner!.Dot);
    }

    [Fact]
    public void Winner_WhenSameRegionAndHlcTie_ReturnsHighestCounter()
    {
        var first = SiblingSet.Empty.Put("a", None, Bytes("1"), "", 7).State;
        var both = first.Put("a", None, Bytes("2"), "", 7).State;

        Assert.Equal(new Dot("a", 2), both.Winner!.Dot);
    }

    [Fact]
    public void Winner_WhenEmpty_ReturnsNull()
    {
        Assert.Null(SiblingSet.Empty.Winner);
    }

    [Fact]
    public void ResolveLww_WhenConflict_ReturnsWinnerWithSameContextAndLosers()
    {
        var set = Concurrent(("a", 30), ("b", 50), ("c", 10));

        var resolution = set.ResolveLww();

        Assert.Equal(new Dot("b", 1), Assert.Single(resolution.Resolved.Siblings).Dot);
        Assert.Equal(set.Context, resolution.Resolved.Context);
        Assert.Equal([new Dot("a", 1), new Dot("c", 1)], resolution.Losers.Select(s => s.Dot));
    }

    [Fact]
    public void ResolveLww_WhenSingleSibling_ReturnsSameSetAndNoLosers()
    {
        var set = SiblingSet.Empty.Put("a", None, Bytes("v"), "", 1).State;

        var resolution = set.ResolveLww();

        Assert.Same(set, resolution.Resolved);
        Assert.Empty(resolution.Losers);
    }

    [Fact]
    public void IsDeleted_WhenTombstoneWinsOverConcurrentValue_DependsOnPolicy()
    {
        var value = SiblingSet.Empty.Put("a", None, Bytes("v"), "", 10);
        var tombstone = SiblingSet.Empty.Delete("b", None, 20);
        var set = value.State.Apply(tombstone.Write);

        Assert.True(set.IsDeleted(ConflictPolicy.Lww));
        Assert.Empty(set.GetVisible(ConflictPolicy.Lww));
        Assert.False(set.IsDeleted(ConflictPolicy.Siblings));
        Assert.Equal(new Dot("a", 1), Assert.Single(set.GetVisible(ConflictPolicy.Siblings)).Dot);
    }

    [Fact]
    public void IsDeleted_WhenValueWinsOverConcurrentTombstone_IsFalseUnderBothPolicies()
    {
        var value = SiblingSet.Empty.Put("a", None, Bytes("v"), "", 30);
        var tombstone = SiblingSet.Empty.Delete("b", None, 20);
        var set = value.State.Apply(tombstone.Write);

        Assert.False(set.IsDeleted(ConflictPolicy.Lww));
        Assert.Equal("v", Text(Assert.Single(set.GetVisible(ConflictPolicy.Lww))));
        Assert.False(set.IsDeleted(ConflictPolicy.Siblings));
    }

    [Fact]
    public void IsDeleted_WhenNeverWritten_IsTrue()
    {
        Assert.True(SiblingSet.Empty.IsDeleted(ConflictPolicy.Lww));
        Assert.True(SiblingSet.Empty.IsDeleted(ConflictPolicy.Siblings));
        Assert.True(SiblingSet.Empty.IsEmpty);
    }

    [Fact]
    public void GetVisible_WhenSiblingsPolicy_ReturnsEveryLiveSibling()
    {
        var set = Concurrent(("a", 1), ("b", 2), ("c", 3));

        Assert.Equal(3, set.GetVisible(ConflictPolicy.Siblings).Length);
    }

    [Fact]
    public void Create_WhenSiblingsUnordered_SortsThem()
    {
        var context = VersionVector.Create(("a", 2), ("b", 1));
        var b1 = VersionedValue.CreatePut(new Dot("b", 1), 1, "", Bytes("b"));
        var a2 = VersionedValue.CreatePut(new Dot("a", 2), 1, "", Bytes("a"));

        var set = SiblingSet.Create(context, [b1, a2]);

        Assert.Equal([new Dot("a", 2), new Dot("b", 1)], set.Siblings.Select(s => s.Dot));
    }

    [Fact]
    public void Create_WhenSiblingNotCoveredByContext_Throws()
    {
        var sibling = VersionedValue.CreatePut(new Dot("a", 3), 1, "", Bytes("a"));

        Assert.Throws<ArgumentException>(() => SiblingSet.Create(VersionVector.Create(("a", 2)), [sibling]));
    }

    [Fact]
    public void Create_WhenTwoSiblingsShareDot_Throws()
    {
        var sibling = VersionedValue.CreatePut(new Dot("a", 1), 1, "", Bytes("a"));

        Assert.Throws<ArgumentException>(() => SiblingSet.Create(VersionVector.Create(("a", 1)), [sibling, sibling]));
    }

    [Fact]
    public void Equals_WhenBuiltDifferentlyWithSameContent_IsTrue()
    {
        var viaWrites = Concurrent(("a", 1), ("b", 2));
        var viaCreate = SiblingSet.Create(
            VersionVector.Create(("a", 1), ("b", 1)),
            [
                VersionedValue.CreatePut(new Dot("b", 1), 2, "", Bytes("b")),
                VersionedValue.CreatePut(new Dot("a", 1), 1, "", Bytes("a")),
            ]);

        Assert.Equal(viaWrites, viaCreate);
        Assert.Equal(viaWrites.GetHashCode(), viaCreate.GetHashCode());
    }

    /// <summary>
    /// Documents why the stored state must stay the full sibling set: if a region persisted the LWW-reduced set, a
    /// concurrent sibling it dropped can no longer beat a later write that is concurrent with it, and regions diverge.
    /// </summary>
    [Fact]
    public void ResolveLww_WhenReducedSetIsPersistedAsState_RegionsCanDiverge()
    {
        // x (in a, HLC 30) and y (in c, HLC 20) are concurrent. Region b sees only x and overwrites it with w (HLC 10),
        // which is concurrent with y. Under full DVV state the LWW winner everywhere is y (20 > 10).
        var x = SiblingSet.Empty.Put("a", None, Bytes("x"), "", 30);
        var y = SiblingSet.Empty.Put("c", None, Bytes("y"), "", 20);
        var bState = SiblingSet.Empty.Apply(x.Write);
        var w = bState.Put("b", bState.Context, Bytes("w"), "", 10);

        var fullInA = x.State.Apply(y.Write).Apply(w.Write);
        var fullInB = w.State.Apply(y.Write);
        Assert.Equal(fullInA, fullInB);
        Assert.Equal("y", Text(fullInA.Winner!));

        // Region a persisting its reduced set after seeing y drops y for good; it ends on w while b ends on y.
        var reducedInA = x.State.Apply(y.Write).ResolveLww().Resolved.Apply(w.Write).ResolveLww().Resolved;
        var reducedInB = w.State.Apply(y.Write).ResolveLww().Resolved;
        Assert.Equal("w", Text(reducedInA.Winner!));
        Assert.Equal("y", Text(reducedInB.Winner!));
    }

    private static SiblingSet Concurrent(params (string Region, long Hlc)[] writes)
    {
        var set = SiblingSet.Empty;
        foreach (var (region, hlc) in writes)
        {
            set = set.Apply(SiblingSet.Empty.Put(region, None, Bytes(region), "", hlc).Write);
        }

        return set;
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(VersionedValue version) => Encoding.UTF8.GetString(version.Value.Span);
}
