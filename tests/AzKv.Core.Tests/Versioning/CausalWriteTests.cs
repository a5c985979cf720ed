using AzKv.Versioning;

namespace AzKv.Core.Tests.Versioning;

public sealed class CausalWriteTests
{
    [Fact]
    public void Constructor_WhenContextCoversOwnDot_Throws()
    {
        var version = VersionedValue.CreateTombstone(new Dot("a", 2), 1);

        Assert.Throws<ArgumentException>(() => new CausalWrite(VersionVector.Create(("a", 2)), version));
    }

    [Fact]
    public void Covers_WhenDotIsOwnOrInContext_ReturnsTrue()
    {
        var write = new CausalWrite(
            VersionVector.Create(("a", 1), ("b", 4)),
            VersionedValue.CreateTombstone(new Dot("a", 3), 1));

        Assert.True(write.Covers(new Dot("a", 3)));
        Assert.True(write.Covers(new Dot("a", 1)));
        Assert.True(write.Covers(new Dot("b", 4)));
        Assert.False(write.Covers(new Dot("a", 2)));
        Assert.False(write.Covers(new Dot("b", 5)));
    }
}
