using AzKv.Versioning;

namespace AzKv.Core.Tests.Versioning;

/// <summary>
/// A random multi-region history of one key, for property tests. Each region holds a <see cref="SiblingSet"/>;
/// steps are local writes (with the region's current context, or, when stale contexts are allowed, a context a client
/// read earlier from any region), full-state syncs (<see cref="SiblingSet.Merge"/>) and causally delivered record
/// applies (<see cref="SiblingSet.Apply"/>). Every write's record is kept with its causal dependencies (the records
/// its writer and its context had seen), so tests can replay the log in any causal order.
/// </summary>
internal sealed class DvvSimulation
{
    private readonly Random _random;
    private readonly bool _staleContexts;
    private readonly List<Snapshot> _snapshots = [];
    private readonly HashSet<int>[] _seen;

    public DvvSimulation(Random random, int regionCount, bool staleContexts)
    {
        _random = random;
        _staleContexts = staleContexts;
        Regions = [.. Enumerable.Range(0, regionCount).Select(i => $"r{i}")];
        States = [.. Enumerable.Repeat(SiblingSet.Empty, regionCount)];
        _seen = [.. Enumerable.Range(0, regionCount).Select(_ => new HashSet<int>())];
    }

    public string[] Regions { get; }

    public SiblingSet[] States { get; }

    /// <summary>Every write in the order it happened, with the ids of the records it causally depends on.</summary>
    public List<(CausalWrite Write, int[] Dependencies)> Records { get; } = [];

    /// <summary>Every state any region passed through (for picking arbitrary reachable states).</summary>
    public List<SiblingSet> History { get; } = [];

    public void Run(int steps)
    {
        for (var i = 0; i < steps; i++)
        {
            Step();
        }
    }

    public void Step()
    {
        var region = _random.Next(Regions.Length);
        switch (_random.Next(10))
        {
            case < 5:
                Write(region);
                break;
            case < 8:
                var other = _random.Next(Regions.Length);
                States[region] = States[region].Merge(States[other]);
                _seen[region].UnionWith(_seen[other]);
                break;
            default:
                DeliverOne(region);
                break;
        }

        History.Add(States[region]);
        _snapshots.Add(new Snapshot(States[region].Context, [.. _seen[region]]));
    }

    /// <summary>The ids of the records <paramref name="region"/> has seen (directly, by sync, or through a client context).</summary>
    public IReadOnlyCollection<int> SeenBy(int region) => _seen[region];

    /// <summary>A random order of all records in which every record comes after its dependencies.</summary>
    public List<CausalWrite> CausalShuffle(Random random)
    {
        var delivered = new HashSet<int>();
        var pending = Enumerable.Range(0, Records.Count).ToList();
        var order = new List<CausalWrite>(Records.Count);
        while (pending.Count > 0)
        {
            var ready = pending.Where(id => Records[id].Dependencies.All(delivered.Contains)).ToList();
            var next = ready[random.Next(ready.Count)];
            pending.Remove(next);
            delivered.Add(next);
            order.Add(Records[next].Write);
        }

        return order;
    }

    /// <summary>
    /// A random interleaving of the regions' logs: each origin's records stay in the order that origin wrote them,
    /// nothing else is ordered (how a region consumes several other regions' logs independently).
    /// </summary>
    public List<CausalWrite> PerOriginShuffle(Random random)
    {
        var queues = Records.Select(r => r.Write)
            .GroupBy(w => w.Dot.Region, StringComparer.Ordinal)
            .Select(g => new Queue<CausalWrite>(g))
            .ToList();
        var order = new List<CausalWrite>(Records.Count);
        while (queues.Count > 0)
        {
            var queue = queues[random.Next(queues.Count)];
            order.Add(queue.Dequeue());
            if (queue.Count == 0)
            {
                queues.Remove(queue);
            }
        }

        return order;
    }

    private void Write(int region)
    {
        var state = States[region];
        var snapshot = _staleContexts && _snapshots.Count > 0 && _random.Next(3) == 0
            ? _random.Pick(_snapshots)
            : new Snapshot(state.Context, []);
        var hlc = _random.Next(0, 20);
        var result = _random.Next(5) == 0
            ? state.Delete(Regions[region], snapshot.Context, hlc)
            : state.Put(Regions[region], snapshot.Context, _random.NextBytes(4), "text/plain", hlc);

        var id = Records.Count;
        var dependencies = new HashSet<int>(_seen[region]);
        dependencies.UnionWith(snapshot.Seen);
        Records.Add((result.Write, [.. dependencies]));
        _seen[region].UnionWith(snapshot.Seen);
        _seen[region].Add(id);
        States[region] = result.State;
    }

    private void DeliverOne(int region)
    {
        var seen = _seen[region];
        var ready = Enumerable.Range(0, Records.Count)
            .Where(id => !seen.Contains(id) && Records[id].Dependencies.All(seen.Contains))
            .ToList();
        if (ready.Count == 0)
        {
            return;
        }

        var id = _random.Pick(ready);
        States[region] = States[region].Apply(Records[id].Write);
        seen.Add(id);
    }

    private sealed record Snapshot(VersionVector Context, int[] Seen);
}
