using System.Text;

namespace AzKv.Testing.Linearizability;

/// <summary>The verdict on one key's history.</summary>
/// <param name="Key">The key.</param>
/// <param name="IsLinearizable">True when some order of the operations fits the register.</param>
/// <param name="Explanation">For a failure: the history and the longest order found before the search got stuck.</param>
/// <param name="StatesExplored">How many (linearized set, state) pairs the search visited (its cost).</param>
public sealed record KeyVerdict(string Key, bool IsLinearizable, string? Explanation, long StatesExplored);

/// <summary>
/// Linearizability checker for single-key registers (read, write, CAS, delete): the Wing–Gong
/// search with Lowe's just-in-time linearization and memoisation of (linearized set, state), as
/// porcupine and Knossos do it. Histories are split per key (a register per key is a local
/// property) and each key is checked on its own.
/// </summary>
/// <remarks>
/// <para>
/// The history is a list of call and return events in logical time. The search walks it: at a
/// call it tries to linearize that operation now (the model must accept its input and output in
/// the current state); at a return of an operation not yet linearized it backtracks to the last
/// choice. Linearizing an operation "lifts" its call and return out of the list, so the search
/// always looks at the earliest event still pending. A (set of linearized operations, state) pair
/// that was seen before leads nowhere new and is skipped: that cache is what keeps the search
/// small on realistic histories.
/// </para>
/// <para>
/// Failed operations (the answer said it did not happen) and indeterminate reads are dropped.
/// Indeterminate writes (timeouts, unknown outcomes, never answered) return at infinity: they
/// may be linearized anywhere after their call, and the search succeeds as soon as every
/// answered operation is linearized, so they may also never happen.
/// </para>
/// </remarks>
public static class LinearizabilityChecker
{
    /// <summary>Checks every key's history; returns one verdict per key, failures first.</summary>
    public static IReadOnlyList<KeyVerdict> Check(IEnumerable<RegisterOperation> history, long maxStatesPerKey = 5_000_000)
    {
        ArgumentNullException.ThrowIfNull(history);
        return history
            .GroupBy(o => o.Key, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => CheckKey(g.Key, [.. g], maxStatesPerKey))
            .OrderBy(v => v.IsLinearizable)
            .ToList();
    }

    /// <summary>Checks one key's operations (all must be on that key).</summary>
    public static KeyVerdict CheckKey(string key, IReadOnlyList<RegisterOperation> operations, long maxStates = 5_000_000)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var ops = operations
            .Where(o => o.Outcome != OperationOutcome.Failed && !(o.IsIndeterminate && o.Kind == RegisterOpKind.Read))
            .OrderBy(o => o.Call)
            .ToArray();
        var search = new Search(ops, maxStates);
        var ok = search.Run();
        return new KeyVerdict(key, ok, ok ? null : search.Explain(key, operations), search.Explored);
    }

    /// <summary>
    /// The register: applies <paramref name="op"/> to <paramref name="state"/> (null: absent).
    /// Returns false when the operation's answer cannot have come from that state.
    /// </summary>
    public static bool Step(string? state, RegisterOperation op, out string? next)
    {
        ArgumentNullException.ThrowIfNull(op);
        next = state;
        var known = !op.IsIndeterminate;
        switch (op.Kind)
        {
            case RegisterOpKind.Read:
                return string.Equals(state, op.Output, StringComparison.Ordinal);
            case RegisterOpKind.Write:
                next = op.Value;
                return true;
            case RegisterOpKind.Cas:
                var matches = string.Equals(state, op.Expected, StringComparison.Ordinal);
                if (matches)
                {
                    next = op.Value;
                }

                return !known || matches == (op.Output == "true");
            case RegisterOpKind.Delete:
                var exists = state is not null;
                next = null;
                return !known || exists == (op.Output == "true");
            default:
                throw new ArgumentOutOfRangeException(nameof(op), op.Kind, "Unknown operation kind.");
        }
    }

    /// <summary>One event of the doubly linked list the search walks.</summary>
    private sealed class Node
    {
        public required int Op { get; init; }

        public required bool IsCall { get; init; }

        public required long Time { get; init; }

        public Node? Match { get; set; }

        public Node? Prev { get; set; }

        public Node? Next { get; set; }
    }

    private readonly record struct CacheKey(ulong[] Bits, string? State, int Hash) : IEquatable<CacheKey>
    {
        public static CacheKey Create(ulong[] bits, string? state)
        {
            var hash = new HashCode();
            foreach (var word in bits)
            {
                hash.Add(word);
            }

            hash.Add(state, StringComparer.Ordinal);
            return new CacheKey((ulong[])bits.Clone(), state, hash.ToHashCode());
        }

        public bool Equals(CacheKey other) =>
            Hash == other.Hash && string.Equals(State, other.State, StringComparison.Ordinal) && Bits.AsSpan().SequenceEqual(other.Bits);

        public override int GetHashCode() => Hash;
    }

    private sealed class Search
    {
        private readonly RegisterOperation[] _ops;
        private readonly long _maxStates;
        private readonly Node _head;
        private readonly int _known;
        private List<int> _best = [];
        private int _stuckAt = -1;
        private int _stuckDepth = -1;

        public Search(RegisterOperation[] ops, long maxStates)
        {
            _ops = ops;
            _maxStates = maxStates;
            _known = ops.Count(o => !o.IsIndeterminate);

            // Events in time order; an indeterminate operation returns at infinity (after every
            // other event, in call order among themselves).
            var events = new List<Node>(ops.Length * 2);
            for (var i = 0; i < ops.Length; i++)
            {
                var call = new Node { Op = i, IsCall = true, Time = ops[i].Call };
                var ret = new Node { Op = i, IsCall = false, Time = ops[i].IsIndeterminate ? long.MaxValue : ops[i].Return };
                if (!ops[i].IsIndeterminate && ret.Time <= call.Time)
                {
                    throw new ArgumentException($"Operation {ops[i]} returns before it is called.", nameof(ops));
                }

                call.Match = ret;
                events.Add(call);
                events.Add(ret);
            }

            events.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Op.CompareTo(b.Op));
            _head = new Node { Op = -1, IsCall = false, Time = long.MinValue };
            var previous = _head;
            foreach (var node in events)
            {
                previous.Next = node;
                node.Prev = previous;
                previous = node;
            }
        }

        public long Explored { get; private set; }

        public bool Run()
        {
            var bits = new ulong[(_ops.Length + 63) / 64];
            var cache = new HashSet<CacheKey>();
            var stack = new Stack<(Node Call, string? State)>();
            string? state = null;
            var linearizedKnown = 0;
            var entry = _head.Next;
            while (true)
            {
                if (linearizedKnown == _known)
                {
                    return true; // what is left returns at infinity and may happen later or never
                }

                if (entry is null)
                {
                    return linearizedKnown == _known;
                }

                if (entry.IsCall)
                {
                    var op = _ops[entry.Op];
                    if (Step(state, op, out var next))
                    {
                        SetBit(bits, entry.Op, true);
                        var key = CacheKey.Create(bits, next);
                        if (cache.Add(key))
                        {
                            if (++Explored > _maxStates)
                            {
                                throw new InvalidOperationException($"The linearizability search gave up after {_maxStates} states.");
                            }

                            stack.Push((entry, state));
                            state = next;
                            linearizedKnown += op.IsIndeterminate ? 0 : 1;
                            Lift(entry);
                            if (stack.Count > _best.Count)
                            {
                                _best = [.. stack.Select(s => s.Call.Op).Reverse()];
                            }

                            entry = _head.Next;
                            continue;
                        }

                        SetBit(bits, entry.Op, false);
                    }

                    entry = entry.Next;
                    continue;
                }

                // A return of an operation that is not linearized yet: undo the last choice.
                if (stack.Count == 0)
                {
                    if (_stuckAt < 0)
                    {
                        _stuckAt = entry.Op;
                    }

                    return false;
                }

                if (stack.Count >= _stuckDepth)
                {
                    _stuckAt = entry.Op; // the op that had to be linearized by then, at the deepest point
                    _stuckDepth = stack.Count;
                }

                var (call, previous) = stack.Pop();
                state = previous;
                linearizedKnown -= _ops[call.Op].IsIndeterminate ? 0 : 1;
                SetBit(bits, call.Op, false);
                Unlift(call);
                entry = call.Next;
            }
        }

        public string Explain(string key, IReadOnlyList<RegisterOperation> all)
        {
            var text = new StringBuilder();
            text.Append("Key '").Append(key).AppendLine("' is not linearizable.");
            text.Append("Longest linearization found (").Append(_best.Count).AppendLine(" operations):");
            string? state = null;
            foreach (var index in _best)
            {
                Step(state, _ops[index], out state);
                text.Append("  ").Append(_ops[index]).Append("  -> ").AppendLine(state ?? "absent");
            }

            if (_stuckAt >= 0)
            {
                text.Append("Stuck: no order linearizes everything before the return of ").AppendLine(_ops[_stuckAt].ToString());
            }

            text.AppendLine("History of the key (by call time):");
            foreach (var op in all.OrderBy(o => o.Call).Take(200))
            {
                text.Append("  ").AppendLine(op.ToString());
            }

            return text.ToString();
        }

        private static void SetBit(ulong[] bits, int index, bool value)
        {
            if (value)
            {
                bits[index >> 6] |= 1UL << (index & 63);
            }
            else
            {
                bits[index >> 6] &= ~(1UL << (index & 63));
            }
        }

        private static void Lift(Node call)
        {
            call.Prev!.Next = call.Next;
            call.Next!.Prev = call.Prev;
            var ret = call.Match!;
            ret.Prev!.Next = ret.Next;
            if (ret.Next is not null)
            {
                ret.Next.Prev = ret.Prev;
            }
        }

        private static void Unlift(Node call)
        {
            var ret = call.Match!;
            ret.Prev!.Next = ret;
            if (ret.Next is not null)
            {
                ret.Next.Prev = ret;
            }

            call.Prev!.Next = call;
            call.Next!.Prev = call;
        }
    }
}
