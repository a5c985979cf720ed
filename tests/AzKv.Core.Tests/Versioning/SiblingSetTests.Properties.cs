using AzKv.Versioning;

namespace AzKv.Core.Tests.Versioning;

/// <summary>Seeded random property tests of the DVV operations over states reached by random multi-region histories.</summary>
public sealed partial class SiblingSetTests
{
    [Fact]
    public void Merge_WhenStatesAreReachable_IsCommutative()
    {
        Property.ForAll(random =>
        {
            var history = RandomHistory(random);
            var a = random.Pick(history);
            var b = random.Pick(history);

            Assert.Equal(a.Merge(b), b.Merge(a));
        });
    }

    [Fact]
    public void Merge_WhenStatesAreReachable_IsAssociative()
    {
        Property.ForAll(random =>
        {
            var history = RandomHistory(random);
            var a = random.Pick(history);
            var b = random.Pick(history);
            var c = random.Pick(history);

            Assert.Equal(a.Merge(b).Merge(c), a.Merge(b.Merge(c)));
        });
    }

    [Fact]
    public void Merge_WhenStatesAreReachable_IsIdempotent()
    {
        Property.ForAll(random =>
        {
            var history = RandomHistory(random);
            var a = random.Pick(history);
            var b = random.Pick(history);
            var ab = a.Merge(b);

            Assert.Equal(a, a.Merge(a));
            Assert.Equal(ab, ab.Merge(a));
            Assert.Equal(ab, ab.Merge(b));
        });
    }

    [Fact]
    public void Merge_WhenStatesAreReachable_ContextIsLeastUpperBound()
    {
        Property.ForAll(random =>
        {
            var history = RandomHistory(random);
            var a = random.Pick(history);
            var b = random.Pick(history);
            var merged = a.Merge(b);

            Assert.Equal(VersionVector.Merge(a.Context, b.Context), merged.Context);
            Assert.True(merged.Context.Dominates(a.Context));
            Assert.True(merged.Context.Dominates(b.Context));
            Assert.All(merged.Siblings, s => Assert.True(a.Contains(s.Dot) || b.Contains(s.Dot)));
        });
    }

    [Fact]
    public void Put_WhenContextIsAnyReachableContext_RemovesExactlyTheCoveredSiblings()
    {
        Property.ForAll(random =>
        {
            var history = RandomHistory(random);
            var state = random.Pick(history);
            var context = random.Pick(history).Context;
            var region = $"r{random.Next(4)}";

            var result = state.Put(region, context, random.NextBytes(3), "", random.Next(100));

            var expected = state.Siblings.Where(s => !context.Covers(s.Dot)).Select(s => s.Dot)
                .Append(result.Write.Dot)
                .Order(Comparer<Dot>.Create(Dot.CompareCanonical));
            Assert.Equal(expected, result.State.Siblings.Select(s => s.Dot));
            Assert.Equal(
                VersionVector.Merge(state.Context, context).With(region, result.Write.Dot.Counter),
                result.State.Context);
            Assert.Equal(Math.Max(state.Context[region], context[region]) + 1, result.Write.Dot.Counter);
        });
    }

    [Fact]
    public void Apply_WhenGivenTheRecordOfAWrite_ReproducesTheWriteStateAndIsIdempotent()
    {
        Property.ForAll(random =>
        {
            var history = RandomHistory(random);
            var state = random.Pick(history);
            var context = random.Next(2) == 0 ? state.Context : random.Pick(history).Context;
            var region = $"r{random.Next(4)}";
            var result = random.Next(4) == 0
                ? state.Delete(region, context, random.Next(100))
                : state.Put(region, context, random.NextBytes(3), "a/b", random.Next(100));

            Assert.Equal(result.State, state.Apply(result.Write));
            Assert.Equal(result.State, result.State.Apply(result.Write));
        });
    }

    [Fact]
    public void Apply_WhenLogIsReplayedInAnyCausalOrder_Converges()
    {
        Property.ForAll(random =>
        {
            var simulation = new DvvSimulation(random, random.Next(2, 5), staleContexts: random.Next(2) == 0);
            simulation.Run(random.Next(1, 40));

            var replays = Enumerable.Range(0, 3)
                .Select(_ => simulation.CausalShuffle(random).Aggregate(SiblingSet.Empty, (s, w) => s.Apply(w)))
                .ToList();
            var mergedRegions = simulation.States.Aggregate(SiblingSet.Empty, (s, r) => s.Merge(r));

            Assert.Equal(replays[0], replays[1]);
            Assert.Equal(replays[0], replays[2]);
            Assert.Equal(mergedRegions, replays[0]);
        });
    }

    [Fact]
    public void Apply_WhenOnlyEachOriginsOrderIsKept_Converges()
    {
        Property.ForAll(random =>
        {
            // Cross-region causal order is not needed: a region may consume each other region's log independently.
            var simulation = new DvvSimulation(random, random.Next(2, 5), staleContexts: random.Next(2) == 0);
            simulation.Run(random.Next(1, 40));
            var expected = simulation.States.Aggregate(SiblingSet.Empty, (s, r) => s.Merge(r));

            for (var i = 0; i < 3; i++)
            {
                var replayed = simulation.PerOriginShuffle(random).Aggregate(SiblingSet.Empty, (s, w) => s.Apply(w));
                Assert.Equal(expected, replayed);
            }
        });
    }

    [Fact]
    public void Apply_WhenSeenRecordsAreRedelivered_ChangesNothing()
    {
        Property.ForAll(random =>
        {
            // Replication is at-least-once: a record delivered again after later writes must be a no-op.
            var simulation = new DvvSimulation(random, random.Next(2, 5), staleContexts: random.Next(2) == 0);
            simulation.Run(random.Next(1, 40));

            for (var region = 0; region < simulation.Regions.Length; region++)
            {
                var state = simulation.States[region];
                foreach (var id in simulation.SeenBy(region))
                {
                    Assert.Equal(state, state.Apply(simulation.Records[id].Write));
                }
            }
        });
    }

    [Fact]
    public void Apply_WhenLogIsReplayedInWriteOrder_ReproducesTheWriterStates()
    {
        Property.ForAll(random =>
        {
            // One region alone: its WAL replayed from empty must give exactly its state, whatever contexts it used.
            var simulation = new DvvSimulation(random, 1, staleContexts: true);
            simulation.Run(random.Next(1, 30));

            var replayed = simulation.Records.Aggregate(SiblingSet.Empty, (s, r) => s.Apply(r.Write));

            Assert.Equal(simulation.States[0], replayed);
        });
    }

    [Fact]
    public void Put_WhenRegionsWriteWithCurrentContextAndSyncRandomly_SiblingsNeverExceedRegionCount()
    {
        Property.ForAll(random =>
        {
            var regionCount = random.Next(2, 6);
            var simulation = new DvvSimulation(random, regionCount, staleContexts: false);
            for (var step = 0; step < 60; step++)
            {
                simulation.Step();
                Assert.All(simulation.States, s => Assert.InRange(s.Siblings.Length, 0, regionCount));
            }

            var all = simulation.States.Aggregate(SiblingSet.Empty, (s, r) => s.Merge(r));
            Assert.InRange(all.Siblings.Length, 0, regionCount);
            Assert.Equal(all.Siblings.Length, all.Siblings.Select(s => s.Dot.Region).Distinct().Count());
        });
    }

    [Fact]
    public void Winner_WhenStatesMergeInAnyOrder_IsTheSame()
    {
        Property.ForAll(random =>
        {
            var simulation = new DvvSimulation(random, random.Next(2, 5), staleContexts: random.Next(2) == 0);
            simulation.Run(random.Next(1, 30));
            var forward = simulation.States.Aggregate(SiblingSet.Empty, (s, r) => s.Merge(r));
            var shuffled = simulation.States.OrderBy(_ => random.Next()).Aggregate(SiblingSet.Empty, (s, r) => r.Merge(s));

            Assert.Equal(forward.Winner, shuffled.Winner);
            Assert.Equal(forward.ResolveLww().Losers.ToArray(), shuffled.ResolveLww().Losers.ToArray());
        });
    }

    [Fact]
    public void ToWrites_WhenAppliedInOrderToAnyReachableState_EqualsMerge()
    {
        Property.ForAll(random =>
        {
            var simulation = new DvvSimulation(random, random.Next(2, 5), staleContexts: false);
            simulation.Run(random.Next(1, 30));
            var source = random.Pick(simulation.History);
            var local = random.Pick(simulation.History);

            var applied = source.ToWrites().Aggregate(local, (state, write) => state.Apply(write));

            Assert.Equal(local.Merge(source), applied);
        });
    }

    [Fact]
    public void ToWrites_WhenAppliedToEmpty_RebuildsTheSet()
    {
        Property.ForAll(random =>
        {
            var simulation = new DvvSimulation(random, random.Next(2, 5), staleContexts: false);
            simulation.Run(random.Next(1, 30));
            var source = random.Pick(simulation.History);

            var rebuilt = source.ToWrites().Aggregate(SiblingSet.Empty, (state, write) => state.Apply(write));

            Assert.Equal(source, rebuilt);
        });
    }

    private static List<SiblingSet> RandomHistory(Random random)
    {
        var simulation = new DvvSimulation(random, random.Next(2, 5), staleContexts: random.Next(2) == 0);
        simulation.Run(random.Next(1, 30));
        return simulation.History;
    }
}
