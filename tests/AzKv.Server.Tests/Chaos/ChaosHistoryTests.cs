using AzKv.Testing.Chaos;
using AzKv.Testing.Linearizability;

namespace AzKv.Server.Tests.Chaos;

/// <summary>The chaos run's history file and checks, on small hand-made histories.</summary>
public sealed class ChaosHistoryTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), "azkv-history-" + Guid.NewGuid().ToString("N") + ".jsonl");

    public void Dispose() => File.Delete(_file);

    /// <summary>c1 writes a, then b (both acknowledged); c2 reads afterwards, seeing <paramref name="seen"/>; c3's write c is unknown.</summary>
    private static HistoryRecorder History(string? seen)
    {
        var recorder = new HistoryRecorder();
        var a = recorder.Invoke(1, "k", RegisterOpKind.Write, "a");
        recorder.Complete(a, OperationOutcome.Ok, "true");
        var b = recorder.Invoke(1, "k", RegisterOpKind.Cas, "b", expected: "a");
        recorder.Complete(b, OperationOutcome.Ok, "true");
        var d = recorder.Invoke(2, "k", RegisterOpKind.Delete);
        recorder.Complete(d, OperationOutcome.Failed);
        var read = recorder.Invoke(2, "k", RegisterOpKind.Read);
        recorder.Complete(read, OperationOutcome.Ok, seen);
        recorder.Invoke(3, "other", RegisterOpKind.Write, "c");
        return recorder;
    }

    [Fact]
    public void Load_WhenSaved_ReturnsTheSameOperations()
    {
        var recorder = History("b");
        ChaosHistory.Save(_file, recorder.Operations, new Dictionary<int, (double, double)> { [0] = (1.5, 2.5), [4] = (3, double.NaN) });

        var loaded = ChaosHistory.Load(_file);

        Assert.Equal(recorder.Operations.Select(o => o.ToString()), loaded.Select(o => o.ToString()));
        Assert.Equal(OperationOutcome.Pending, loaded[4].Outcome);
        Assert.Equal(long.MaxValue, loaded[4].Return);
        Assert.Equal("a", loaded[1].Expected);
    }

    [Fact]
    public void Check_WhenTheReadSeesTheLastAcknowledgedWrite_Passes()
    {
        ChaosHistory.Save(_file, History("b").Operations);

        var verdict = ChaosHistory.Check(ChaosHistory.Load(_file));

        Assert.True(verdict.Passed);
        Assert.Empty(verdict.LostWrites);
    }

    [Theory]
    [InlineData("a")] // stale: the CAS to b was acknowledged before the read
    [InlineData(null)] // lost: the key reads absent, and the only delete failed
    public void Check_WhenTheReadMissesTheLastAcknowledgedWrite_FailsBothChecks(string? seen)
    {
        ChaosHistory.Save(_file, History(seen).Operations);

        var verdict = ChaosHistory.Check(ChaosHistory.Load(_file));

        Assert.False(verdict.Passed);
        Assert.False(verdict.Keys.Single(k => k.Key == "k").IsLinearizable);
        Assert.Single(verdict.LostWrites);
        Assert.Contains("cas(a -> b)", verdict.LostWrites[0], StringComparison.Ordinal);
    }

    [Fact]
    public void FindLostWrites_WhenAnUnknownWriteFollowsTheLastAcknowledgedOne_FlagsNothing()
    {
        var recorder = new HistoryRecorder();
        var a = recorder.Invoke(1, "k", RegisterOpKind.Write, "a");
        recorder.Complete(a, OperationOutcome.Ok, "true");
        var b = recorder.Invoke(2, "k", RegisterOpKind.Write, "b");
        recorder.Complete(b, OperationOutcome.Unknown);
        var read = recorder.Invoke(1, "k", RegisterOpKind.Read);
        recorder.Complete(read, OperationOutcome.Ok, "b");

        Assert.Empty(ChaosHistory.FindLostWrites(recorder.Operations));
        Assert.True(ChaosHistory.Check(recorder.Operations).Passed);
    }
}
