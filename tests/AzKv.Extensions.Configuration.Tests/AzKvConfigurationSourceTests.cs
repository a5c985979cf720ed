namespace AzKv.Extensions.Configuration.Tests;

public sealed class AzKvConfigurationSourceTests
{
    [Fact]
    public void ResolveCacheDirectory_WhenAFolderIsConfigured_UsesItsFullPath()
    {
        var resolved = AzKvConfigurationSource.ResolveCacheDirectory("relative/cache", "/srv/app");

        Assert.Equal(Path.GetFullPath("relative/cache"), resolved);
    }

    [Fact]
    public void ResolveCacheDirectory_WhenNothingIsConfigured_UsesLocalApplicationData()
    {
        var local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);

        var resolved = AzKvConfigurationSource.ResolveCacheDirectory(null, "/srv/app");

        Assert.Equal(string.IsNullOrEmpty(local) ? Path.Combine("/srv/app", ".azkv", "config-cache") : Path.Combine(local, "AzKv", "config-cache"), resolved);
    }
}
