using AzKv.Testing.Linearizability;

namespace AzKv.Core.Tests.Linearizability;

public sealed class LinearizabilityCheckerTests
{
    private readonly HistoryRecorder _history = new();

    [Fact]
    public void Check_WhenReadSeesAnOverwrittenValue_Fails()
    {
        Ok(Invoke(0, RegisterOpKind.Write, "a"));
        Ok(Invoke(0, RegisterOpKind.Write, "b"));
        Ok(Invoke(1, RegisterOpKind.Read), "a"); // stale: b was acknowledged before this read began

        AssertNotLinearizable();
    }

    [Fact]
    public void Check_WhenReadIsConcurrentWithTheOverwrite_Passes()
    {
        Ok(Invoke(0, RegisterOpKind.Write, "a"));
        var write = Invoke(0, RegisterOpKind.Write, "b");
        var read = Invoke(1, RegisterOpKind.Read);
        Ok(read, "a");
        Ok(write);

        AssertLinearizable();
    }

    [Fact]
    public void Check_WhenAnAcknowledgedWriteIsLost_Fails()
    {
        Ok(Invoke(0, RegisterOpKind.Write, "a"));
        Ok(Invoke(1, RegisterOpKind.Read), null);

        AssertNotLinearizable();
    }

    [Fact]
    public void Check_WhenAnIndeterminateWriteLandsLate_Passes()
    {
        Ok(Invoke(0, RegisterOpKind.Write, "a"));
        _history.Complete(Invoke(1, RegisterOpKind.Write, "late"), OperationOutcome.Unknown);
        Ok(Invoke(2, RegisterOpKind.Read), "a");
        Ok(Invoke(2, RegisterOpKind.Read), "a");
        Ok(Invoke(0, RegisterOpKind.Write, "b"));
        Ok(Invoke(2, RegisterOpKind.Read), "late"); // landed long after its client gave up

        AssertLinearizable();
    }

    [Fact]
    public void Check_WhenAnIndeterminateWriteNeverLands_Passes()
    {
        _history.Complete(Invoke(1, RegisterOpKind.Write, "maybe"), OperationOutcome.Unknown);
        Ok(Invoke(2, RegisterOpKind.Read), null);
        var pending = Invoke(1, RegisterOpKind.Write, "never-answered");
        Ok(Invoke(2, RegisterOpKind.Read), null);
        Assert.Equal(OperationOutcome.Pending, pending.Outcome);

        AssertLinearizable();
    }

    [Fact]
    public void Check_WhenAnIndeterminateWriteIsSeenThenUnseen_Fails()
    {
        _history.Complete(Invoke(1, RegisterOpKind.Write, "x"), OperationOutcome.Unknown);
        Ok(Invoke(2, RegisterOpKind.Read), "x");
        Ok(Invoke(2, RegisterOpKind.Read), null); // nothing deleted it: it cannot vanish

        AssertNotLinearizable();
    }

    [Fact]
    public void Check_WhenAFailedWriteIsRead_Fails()
    {
        _history.Complete(Invoke(1, RegisterOpKind.Write, "x"), OperationOutcome.Failed);
        Ok(Invoke(2, RegisterOpKind.Read), "x");

        AssertNotLinearizable();
    }

    [Fact]
    public void Check_WhenACasIsAppliedTwice_Fails()
    {
        // Client 1 increments 0 -> 1; its answer is lost as a definite failure, it retries with the
        // same expectation and the second attempt "fails" the precondition although the first
        // one applied: a CAS loop then applies its change again from the new value.
        Ok(Invoke(0, RegisterOpKind.Write, "0"));
        _history.Complete(Invoke(1, RegisterOpKind.Cas, "1", expected: "0"), OperationOutcome.Failed);
        Ok(Invoke(1, RegisterOpKind.Cas, "1'", expected: "0"), "false");
        Ok(Invoke(1, RegisterOpKind.Read), "1");

        AssertNotLinearizable();
    }

    [Fact]
    public void Check_WhenAnUnknownCasRetriedSeesItsOwnEffect_Passes()
    {
        Ok(Invoke(0, RegisterOpKind.Write, "0"));
        _history.Complete(Invoke(1, RegisterOpKind.Cas, "1", expected: "0"), OperationOutcome.Unknown);
        Ok(Invoke(1, RegisterOpKind.Cas, "1'", expected: "0"), "false");
        Ok(Invoke(1, RegisterOpKind.Read), "1");

        AssertLinearizable();
    }

    [Fact]
    public void Check_WhenTwoCasFromTheSameValueBothSucceed_Fails()
    {
        Ok(Invoke(0, RegisterOpKind.Write, "0"));
        var first = Invoke(1, RegisterOpKind.Cas, "a", expected: "0");
        var second = Invoke(2, RegisterOpKind.Cas, "b", expected: "0");
        Ok(first, "true");
        Ok(second, "true");

        AssertNotLinearizable();
    }

    [Fact]
    public void Check_WhenDeleteReportsNotFoundOnAPresentKey_Fails()
    {
        Ok(Invoke(0, RegisterOpKind.Write, "a"));
        Ok(Invoke(1, RegisterOpKind.Delete), "false");

        AssertNotLinearizable();
    }

    [Fact]
    public void Check_WhenCreateOnlyRacesADelete_PassesInOneOrder()
    {
        Ok(Invoke(0, RegisterOpKind.Write, "a"));
        var delete = Invoke(1, RegisterOpKind.Delete);
        var create = Invoke(2, RegisterOpKind.Cas, "c", expected: null);
        Ok(create, "true");
        Ok(delete, "true");
        Ok(Invoke(0, RegisterOpKind.Read), "c");

        AssertLinearizable();
    }

    [Fact]
    public void Check_WhenKeysAreIndependent_ChecksEachOnItsOwn()
    {
        Ok(_history.Invoke(0, "x", RegisterOpKind.Write, "1"));
        Ok(_history.Invoke(0, "y", RegisterOpKind.Read), "1"); // y was never written

        var verdicts = LinearizabilityChecker.Check(_history.Operations);

        Assert.Equal(2, verdicts.Count);
        Assert.False(verdicts.Single(v => v.Key == "y").IsLinearizable);
        Assert.True(verdicts.Single(v => v.Key == "x").IsLinearizable);
        Assert.Contains("#1", verdicts[0].Explanation, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Check_WhenHistoryComesFromASequentialExecution_AlwaysPasses(int seed)
    {
        // Property: run random operations one at a time on a real register, then give them
        // random overlapping intervals that contain their true instants; some answers are
        // replaced by "unknown" and some unapplied writes by "failed". Always linearizable.
        var random = new Random(seed);
        for (var round = 0; round < 60; round++)
        {
            var ops = GenerateSequential(random, count: random.Next(1, 24));
            var verdict = LinearizabilityChecker.CheckKey("k", ops);
            Assert.True(verdict.IsLinearizable, $"seed {seed} round {round}: {verdict.Explanation}");
        }
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void Check_WhenASequentialReadIsCorrupted_Fails(int seed)
    {
        // The same generator with non-overlapping intervals, then one read's answer changed to a
        // value never written: no order can explain it.
        var random = new Random(seed);
        for (var round = 0; round < 30; round++)
        {
            var ops = GenerateSequential(random, count: random.Next(2, 20), overlap: false);
            var read = ops.FirstOrDefault(o => o.Kind == RegisterOpKind.Read && o.Outcome == OperationOutcome.Ok);
            if (read is null)
            {
                continue;
            }

            read.Output = "never-written";
            Assert.False(LinearizabilityChecker.CheckKey("k", ops).IsLinearizable, $"seed {seed} round {round}");
        }
    }

    private static List<RegisterOperation> GenerateSequential(Random random, int count, bool overlap = true)
    {
        string? state = null;
        var ops = new List<RegisterOperation>();
        for (var i = 0; i < count; i++)
        {
            var instant = (i + 1) * 10L;
            var kind = (RegisterOpKind)random.Next(4);
            var value = $"v{i}";
            var expected = random.Next(3) == 0 ? null : (random.Next(2) == 0 ? state : $"v{random.Next(Math.Max(1, i))}");
            var op = new RegisterOperation
            {
                Id = i,
                Client = i,
                Key = "k",
                Kind = kind,
                Value = kind is RegisterOpKind.Write or RegisterOpKind.Cas ? value : null,
                Expected = kind == RegisterOpKind.Cas ? expected : null,
                Call = overlap ? instant - random.Next(0, 35) : instant - 1,
                Return = overlap ? instant + random.Next(1, 35) : instant + 1,
                Outcome = OperationOutcome.Ok,
            };
            op.Output = kind switch
            {
                RegisterOpKind.Read => state,
                RegisterOpKind.Cas => string.Equals(state, expected, StringComparison.Ordinal) ? "true" : "false",
                RegisterOpKind.Delete => state is not null ? "true" : "false",
                _ => null,
            };
            Assert.True(LinearizabilityChecker.Step(state, op, out var next));
            state = next;
            if (overlap && random.Next(6) == 0)
            {
                op.Outcome = OperationOutcome.Unknown; // it happened; the client did not learn it
            }

            ops.Add(op);
            if (overlap && random.Next(8) == 0)
            {
                // A write that failed definitely: it did not happen, so it changes nothing.
                ops.Add(new RegisterOperation
                {
                    Id = 1000 + i, Client = 99, Key = "k", Kind = RegisterOpKind.Write, Value = $"failed{i}",
                    Call = instant - 3, Return = instant + 3, Outcome = OperationOutcome.Failed,
                });
            }
        }

        return ops;
    }

    private RegisterOperation Invoke(int client, RegisterOpKind kind, string? value = null, string? expected = null) =>
        _history.Invoke(client, "k", kind, value, expected);

    private void Ok(RegisterOperation op, string? output = null) => _history.Complete(op, OperationOutcome.Ok, output);

    private void AssertLinearizable()
    {
        var verdict = LinearizabilityChecker.Check(_history.Operations).Single();
        Assert.True(verdict.IsLinearizable, verdict.Explanation);
    }

    private void AssertNotLinearizable()
    {
        var verdict = LinearizabilityChecker.Check(_history.Operations).Single();
        Assert.False(verdict.IsLinearizable, "expected a violation");
        Assert.NotNull(verdict.Explanation);
    }
}
