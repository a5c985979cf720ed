using AzKv.Server.Hosting;
using AzKv.Server.Security;
using AzKv.Testing;

namespace AzKv.Server.Tests.Security;

/// <summary>The per-principal token bucket of <see cref="AccessControl"/> on a fake clock.</summary>
public sealed class AccessControlRateLimitTests
{
    private static AccessPrincipal Principal(string subject) => new(true, subject, [new AccessGrant(AccessRole.Reader, [])], IsNode: false);

    private static AccessControl Create(TimeProvider time, int rate = 10, int burst = 10) =>
        new(new AuthSettings { Mode = AuthSettings.Local, RequestsPerSecond = rate, Burst = burst }, null, time);

    private static int Drain(AccessControl access, AccessPrincipal principal, int max = 1000)
    {
        var taken = 0;
        while (taken < max && access.TryAcquire(principal, out _))
        {
            taken++;
        }

        return taken;
    }

    [Fact]
    public void TryAcquire_WhenTheBucketIsEmptyAndTheClockMovesOneSecond_RefillsByTheRate()
    {
        var time = new ManualTimeProvider();
        var access = Create(time, rate: 10, burst: 20);
        var alice = Principal("alice");

        Assert.Equal(20, Drain(access, alice));
        Assert.False(access.TryAcquire(alice, out var retryAfter));
        Assert.Equal(1, retryAfter);

        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(10, Drain(access, alice));
    }

    [Fact]
    public void TryAcquire_WhenTheClockDoesNotMove_DoesNotRefillOnRealTime()
    {
        var time = new ManualTimeProvider();
        var access = Create(time, rate: 1000, burst: 5);
        var alice = Principal("alice");
        Assert.Equal(5, Drain(access, alice));

        Thread.Sleep(300);

        Assert.False(access.TryAcquire(alice, out _));
    }

    [Fact]
    public void TryAcquire_WhenOnePrincipalIsEmpty_AnotherStillHasItsWholeBurst()
    {
        var time = new ManualTimeProvider();
        var access = Create(time, rate: 10, burst: 10);

        Assert.Equal(10, Drain(access, Principal("alice")));

        Assert.Equal(10, Drain(access, Principal("bob")));
    }

    [Fact]
    public void TryAcquire_WhenTheCallerIsANodeOrAuthIsOff_IsNeverLimited()
    {
        var time = new ManualTimeProvider();
        var access = Create(time, rate: 1, burst: 1);
        var node = new AccessPrincipal(true, "node-a", [], IsNode: true);

        Assert.Equal(100, Drain(access, node, 100));
        Assert.Equal(100, Drain(access, AccessPrincipal.Open, 100));
    }
}
