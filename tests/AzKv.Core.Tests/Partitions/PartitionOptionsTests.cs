using AzKv.Partitions;

namespace AzKv.Core.Tests.Partitions;

public sealed class PartitionOptionsTests
{
    [Fact]
    public void Validate_WhenLeaseSafetyMarginIsZero_ThrowsNamingTheSetting()
    {
        var options = new PartitionOptions { LeaseSafetyMargin = TimeSpan.Zero };

        // Zero would serve reads until the very instant the service may hand the lease to another node.
        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(nameof(PartitionOptions.LeaseSafetyMargin), error.ParamName);
        Assert.Contains("'LeaseSafetyMargin'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8 * 24 * 3600)]
    public void Validate_WhenIdempotencyWindowIsOutOfRange_ThrowsNamingTheSetting(int seconds)
    {
        var options = new PartitionOptions { IdempotencyWindow = TimeSpan.FromSeconds(seconds) };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(nameof(PartitionOptions.IdempotencyWindow), error.ParamName);
    }

    [Fact]
    public void Validate_WhenDefaults_Passes()
    {
        new PartitionOptions().Validate();
        Assert.Equal(TimeSpan.FromSeconds(5), new PartitionOptions().LeaseSafetyMargin);
        Assert.Equal(TimeSpan.FromMinutes(10), new PartitionOptions().IdempotencyWindow);
    }
}
