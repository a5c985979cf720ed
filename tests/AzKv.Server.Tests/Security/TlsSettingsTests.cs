using AzKv.Local;
using AzKv.Server.Hosting;

namespace AzKv.Server.Tests.Security;

/// <summary><c>AzKv__Tls__*</c>: a node refuses to start with https and no usable certificate, naming the setting.</summary>
public sealed class TlsSettingsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "azkv-tls-settings-" + Guid.NewGuid().ToString("N"));
    private readonly LocalTlsFiles _files;

    public TlsSettingsTests()
    {
        _files = LocalCertificates.CreateOrLoad(_directory, TimeProvider.System);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static List<string> Validate(TlsSettings tls, string urls = "https://127.0.0.1:8443")
    {
        var errors = new List<string>();
        tls.Validate(urls, errors);
        return errors;
    }

    [Fact]
    public void Validate_WhenHttpsUrlHasNoCertificate_NamesTheSetting()
    {
        var error = Assert.Single(Validate(new TlsSettings()));

        Assert.Contains("AzKv__Tls__CertificateFile", error, StringComparison.Ordinal);
        Assert.Contains("AzKv__Urls", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_WhenPlainHttpAndNothingSet_IsFine() =>
        Assert.Empty(Validate(new TlsSettings(), "http://127.0.0.1:8080"));

    [Fact]
    public void Validate_WhenOnlyTheCertificateIsSet_AsksForBoth()
    {
        var error = Assert.Single(Validate(new TlsSettings { CertificateFile = _files.CertificateFile }));

        Assert.Contains("AzKv__Tls__KeyFile", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_WhenTheKeyIsNotTheCertificates_NamesBothFiles()
    {
        var error = Assert.Single(Validate(new TlsSettings { CertificateFile = _files.CertificateFile, KeyFile = Path.Combine(_directory, "ca.key") }));

        Assert.Contains("AzKv__Tls__CertificateFile", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_WhenTheCaFileHoldsNoCertificate_NamesTheSetting()
    {
        var notPem = Path.Combine(_directory, "not.pem");
        File.WriteAllText(notPem, "hello");

        var error = Assert.Single(Validate(new TlsSettings { CertificateFile = _files.CertificateFile, KeyFile = _files.KeyFile, CaFile = notPem }));

        Assert.StartsWith("AzKv__Tls__CaFile", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_WhenTheFilesOfUpHttpsAreSet_IsFineAndLoads()
    {
        var tls = new TlsSettings { CertificateFile = _files.CertificateFile, KeyFile = _files.KeyFile, CaFile = _files.CaCertificateFile };

        Assert.Empty(Validate(tls));
        using var certificate = tls.LoadCertificate();
        Assert.True(certificate!.HasPrivateKey);
        Assert.Single(tls.LoadTrustedRoots()!);
    }

    [Fact]
    public void Validate_WhenItFailsAtStartup_TheServerExitsWithTheSettingNamed()
    {
        var errors = new ServerOptions { Urls = "https://127.0.0.1:8443", Storage = { ConnectionString = "UseDevelopmentStorage=true" } }.Validate();

        Assert.Contains(errors, e => e.Contains("AzKv__Tls__CertificateFile", StringComparison.Ordinal));
    }
}
