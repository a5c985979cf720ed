using System.Text.Json;
using System.Text.Json.Serialization;
using AzKv.Testing.Linearizability;

namespace AzKv.Testing.Chaos;

/// <summary>
/// A chaos run's history on disk, one JSON object per line (history.jsonl): each operation with
/// its logical call/return times (what the checker reads) and its wall-clock times in milliseconds
/// since the run started (for reading it next to faults.log). A run checks the file it wrote,
/// through <see cref="Load"/>, so a saved or doctored history is checked exactly like a live one.
/// </summary>
public static class ChaosHistory
{

    /// <summary>One line of history.jsonl.</summary>
    public sealed record Entry(
        int Id, int Client, string Key, RegisterOpKind Kind, string? Value, string? Expected,
        long Call, long? Return, OperationOutcome Outcome, string? Output, double? InvokedMs, double? CompletedMs);

    /// <summary>Writes <paramref name="operations"/> (wall times by operation id, when known).</summary>
    public static void Save(string path, IEnumerable<RegisterOperation> operations, IReadOnlyDictionary<int, (double Invoked, double Completed)>? wallTimes = null)
    {
        ArgumentNullException.ThrowIfNull(operations);
        using var writer = new StreamWriter(path, append: false);
        foreach (var op in operations)
        {
            (double Invoked, double Completed)? wall = wallTimes is not null && wallTimes.TryGetValue(op.Id, out var w) ? w : null;
            var entry = new Entry(
                op.Id, op.Client, op.Key, op.Kind, op.Value, op.Expected, op.Call,
                op.IsIndeterminate ? null : op.Return, op.Outcome, op.Output, wall?.Invoked, wall is { Completed: var c } && !double.IsNaN(c) ? c : null);
            writer.WriteLine(JsonSerializer.Serialize(entry, ChaosHistoryJson.Default.Entry));
        }
    }

    /// <summary>Reads a history written by <see cref="Save"/>.</summary>
    public static IReadOnlyList<RegisterOperation> Load(string path)
    {
        var operations = new List<RegisterOperation>();
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var e = JsonSerializer.Deserialize(line, ChaosHistoryJson.Default.Entry) ?? throw new InvalidDataException($"{path}: empty line");
            operations.Add(new RegisterOperation
            {
                Id = e.Id,
                Client = e.Client,
                Key = e.Key,
                Kind = e.Kind,
                Value = e.Value,
                Expected = e.Expected,
                Call = e.Call,
                Return = e.Return ?? long.MaxValue,
                Outcome = e.Outcome,
                Output = e.Output,
            });
        }

        return operations;
    }

    /// <summary>Checks a history: linearizability per key, and that no acknowledged write was lost.</summary>
    public static ChaosVerdict Check(IReadOnlyList<RegisterOperation> operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var verdicts = LinearizabilityChecker.Check(operations);
        return new ChaosVerdict(verdicts, FindLostWrites(operations));
    }

    /// <summary>
    /// The direct form of "no acknowledged write is lost", independent of the search: per key,
    /// when the last mutation that may have taken effect (an acknowledged write, CAS or delete;
    /// an unknown one counts too) was acknowledged and every other one had returned before it was
    /// invoked, every read invoked after it returned must see its effect. (The checker finds this
    /// too, with the rest; this names the write.)
    /// </summary>
    public static IReadOnlyList<string> FindLostWrites(IReadOnlyList<RegisterOperation> operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var lost = new List<string>();
        foreach (var key in operations.GroupBy(o => o.Key, StringComparer.Ordinal))
        {
            var mutations = key
                .Where(o => o.Kind != RegisterOpKind.Read && o.Outcome != OperationOutcome.Failed)
                .Where(o => o.IsIndeterminate || !(o.Kind is RegisterOpKind.Cas or RegisterOpKind.Delete && o.Output == "false"))
                .ToList();
            var last = mutations.MaxBy(o => o.Call);
            if (last is null || last.IsIndeterminate || mutations.Any(o => o != last && (o.IsIndeterminate || o.Return > last.Call)))
            {
                continue;
            }

            var expected = last.Kind == RegisterOpKind.Delete ? null : last.Value;
            foreach (var read in key.Where(o => o.Kind == RegisterOpKind.Read && o.Outcome == OperationOutcome.Ok && o.Call > last.Return))
            {
                if (!string.Equals(read.Output, expected, StringComparison.Ordinal))
                {
                    lost.Add($"{key.Key}: acknowledged {last} but later {read}");
                }
            }
        }

        return lost;
    }
}

/// <summary>Source-generated JSON for history.jsonl (file-based apps run without reflection-based serialization).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(ChaosHistory.Entry))]
internal sealed partial class ChaosHistoryJson : JsonSerializerContext;

/// <summary>What <see cref="ChaosHistory.Check"/> found.</summary>
/// <param name="Keys">The checker's verdict per key, failures first.</param>
/// <param name="LostWrites">Acknowledged writes a later read did not see.</param>
public sealed record ChaosVerdict(IReadOnlyList<KeyVerdict> Keys, IReadOnlyList<string> LostWrites)
{
    /// <summary>True when every key is linearizable and no acknowledged write was lost.</summary>
    public bool Passed => Keys.All(k => k.IsLinearizable) && LostWrites.Count == 0;
}
