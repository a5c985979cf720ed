using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using AzKv.Local;
using AzKv.Testing;

namespace AzKv.Cli.Tests.Local;

/// <summary>The local CA of <c>azkv up --https</c>: what it makes, what it keeps, when it renews.</summary>
public sealed class LocalCertificatesTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "azkv-tls-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static bool ChainsTo(string certificateFile, string caFile, DateTimeOffset at)
    {
        using var certificate = X509CertificateLoader.LoadCertificateFromFile(certificateFile);
        using var ca = X509CertificateLoader.LoadCertificateFromFile(caFile);
        return LocalCertificates.IsIssuedBy(certificate, ca, at);
    }

    [Fact]
    public void CreateOrLoad_WhenDirectoryIsEmpty_MakesALoopbackServerCertificateSignedByTheCa()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var files = LocalCertificates.CreateOrLoad(_directory, time);

        Assert.True(ChainsTo(files.CertificateFile, files.CaCertificateFile, time.GetUtcNow()));
        using var node = X509Certificate2.CreateFromPemFile(files.CertificateFile, files.KeyFile);
        Assert.True(node.HasPrivateKey);
        Assert.True(node.MatchesHostname("127.0.0.1"));
        Assert.True(node.MatchesHostname("localhost"));
        Assert.False(node.MatchesHostname("example.com"));
        var usage = Assert.Single(node.Extensions.OfType<X509EnhancedKeyUsageExtension>());
        Assert.Contains(usage.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>(), oid => oid.Value == "1.3.6.1.5.5.7.3.1");
        using var ca = X509CertificateLoader.LoadCertificateFromFile(files.CaCertificateFile);
        Assert.True(Assert.Single(ca.Extensions.OfType<X509BasicConstraintsExtension>()).CertificateAuthority);
        Assert.False(Assert.Single(node.Extensions.OfType<X509BasicConstraintsExtension>()).CertificateAuthority);
    }

    [Fact]
    public void CreateOrLoad_WhenKeysAreWritten_OnlyTheOwnerCanReadThem()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var files = LocalCertificates.CreateOrLoad(_directory, TimeProvider.System);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(files.KeyFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_directory, "ca.key")));
    }

    [Fact]
    public void CreateOrLoad_WhenCalledAgain_KeepsTheCaAndTheCertificate()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var first = LocalCertificates.CreateOrLoad(_directory, time);
        var ca = File.ReadAllText(first.CaCertificateFile);
        var node = File.ReadAllText(first.CertificateFile);

        time.Advance(TimeSpan.FromDays(100));
        var second = LocalCertificates.CreateOrLoad(_directory, time);

        Assert.Equal(ca, File.ReadAllText(second.CaCertificateFile));
        Assert.Equal(node, File.ReadAllText(second.CertificateFile));
    }

    [Fact]
    public void CreateOrLoad_WhenTheCertificateNearsItsEnd_RenewsItUnderTheSameCa()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var first = LocalCertificates.CreateOrLoad(_directory, time);
        var ca = File.ReadAllText(first.CaCertificateFile);
        var node = File.ReadAllText(first.CertificateFile);

        time.Advance(LocalCertificates.CertificateLifetime - LocalCertificates.RenewBefore + TimeSpan.FromDays(1));
        var renewed = LocalCertificates.CreateOrLoad(_directory, time);

        Assert.Equal(ca, File.ReadAllText(renewed.CaCertificateFile));
        Assert.NotEqual(node, File.ReadAllText(renewed.CertificateFile));
        Assert.True(ChainsTo(renewed.CertificateFile, renewed.CaCertificateFile, time.GetUtcNow()));
    }

    [Fact]
    public void CreateOrLoad_WhenTheCaWasReplaced_ReissuesTheCertificate()
    {
        var files = LocalCertificates.CreateOrLoad(_directory, TimeProvider.System);
        File.Delete(files.CaCertificateFile);
        File.Delete(Path.Combine(_directory, "ca.key"));

        var again = LocalCertificates.CreateOrLoad(_directory, TimeProvider.System);

        Assert.True(ChainsTo(again.CertificateFile, again.CaCertificateFile, DateTimeOffset.UtcNow));
    }

    [Fact]
    public void CreateOrLoad_WhenAKeyFileIsGarbage_SaysWhichFileToDelete()
    {
        var files = LocalCertificates.CreateOrLoad(_directory, TimeProvider.System);
        File.WriteAllText(files.KeyFile, "not a key");

        var error = Assert.Throws<IOException>(() => LocalCertificates.CreateOrLoad(_directory, TimeProvider.System));

        Assert.Contains(files.KeyFile, error.Message, StringComparison.Ordinal);
    }
}
