using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using AzKv.Client.Auth;
using AzKv.Client.Http;
using AzKv.Local;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;

namespace AzKv.Client.Tests.Http;

/// <summary>
/// The client over https with a private CA (<see cref="AzKvClientOptions.CaFile"/>, <c>AZKV_CA_FILE</c>, a local up's
/// description) against real https nodes, and the trust rule itself (<see cref="CustomRootTrust"/>).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class HttpsTests : IDisposable
{
    private readonly AzuriteFixture _azurite;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "azkv-client-tls-" + Guid.NewGuid().ToString("N"));
    private readonly LocalTlsFiles _tls;
    private readonly LocalTlsFiles _otherCa;

    public HttpsTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
        _tls = LocalCertificates.CreateOrLoad(Path.Combine(_directory, "a"), TimeProvider.System);
        _otherCa = LocalCertificates.CreateOrLoad(Path.Combine(_directory, "b"), TimeProvider.System);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static X509Certificate2 Leaf(LocalTlsFiles files) => X509CertificateLoader.LoadCertificateFromFile(files.CertificateFile);

    [Fact]
    public void IsTrusted_WhenTheCertificateChainsToTheCa_ReturnsTrue()
    {
        using var leaf = Leaf(_tls);

        Assert.True(CustomRootTrust.IsTrusted(CustomRootTrust.Load(_tls.CaCertificateFile), leaf, null, SslPolicyErrors.RemoteCertificateChainErrors));
    }

    [Fact]
    public void IsTrusted_WhenTheCertificateIsAnotherCas_ReturnsFalse()
    {
        using var leaf = Leaf(_otherCa);

        Assert.False(CustomRootTrust.IsTrusted(CustomRootTrust.Load(_tls.CaCertificateFile), leaf, null, SslPolicyErrors.RemoteCertificateChainErrors));
    }

    [Fact]
    public void IsTrusted_WhenTheNameDoesNotMatch_ReturnsFalseEvenForTheRightCa()
    {
        using var leaf = Leaf(_tls);

        Assert.False(CustomRootTrust.IsTrusted(CustomRootTrust.Load(_tls.CaCertificateFile), leaf, null, SslPolicyErrors.RemoteCertificateNameMismatch));
    }

    [Fact]
    public void Load_WhenTheFileHoldsNoCertificate_NamesTheFile()
    {
        var file = Path.Combine(_directory, "empty.pem");
        File.WriteAllText(file, "nothing here");

        var error = Assert.Throws<IOException>(() => CustomRootTrust.Load(file));

        Assert.Contains(file, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FindCaFile_WhenTheVariableIsSet_ReturnsIt_ElseTheLocalDescriptionOfAnHttpsEndpoint()
    {
        var home = Path.Combine(_directory, "home");
        var environment = new Dictionary<string, string?> { [AmbientToken.HomeVariable] = home };
        var endpoint = new Uri("https://127.0.0.1:18443");
        var descriptor = AmbientToken.DescriptorPath(endpoint, environment.GetValueOrDefault);
        Directory.CreateDirectory(Path.GetDirectoryName(descriptor)!);
        File.WriteAllText(descriptor, $"{{\"caFile\": \"{_tls.CaCertificateFile}\"}}");

        Assert.Equal(_tls.CaCertificateFile, AmbientToken.FindCaFile([endpoint], environment.GetValueOrDefault));
        Assert.Null(AmbientToken.FindCaFile([new Uri("https://example.com")], environment.GetValueOrDefault));
        environment[AmbientToken.CaFileVariable] = "/named.crt";
        Assert.Equal("/named.crt", AmbientToken.FindCaFile([endpoint], environment.GetValueOrDefault));
    }

    [Fact]
    public void Validate_WhenCaFileIsCombinedWithAnHttpClient_NamesTheOption()
    {
        using var http = new HttpClient();
        var options = new AzKvClientOptions { Endpoints = [new Uri("https://127.0.0.1:1")], CaFile = _tls.CaCertificateFile, HttpClient = http };

        var error = Assert.Throws<ArgumentException>(() => new AzKvClient(options));

        Assert.Contains("CaFile", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_WhenTheCaFileDoesNotExist_NamesTheOption()
    {
        var options = new AzKvClientOptions { Endpoints = [new Uri("https://127.0.0.1:1")], CaFile = Path.Combine(_directory, "missing.crt") };

        var error = Assert.Throws<ArgumentException>(() => new AzKvClient(options));

        Assert.Contains("AzKvClientOptions.CaFile", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_WhenTwoNodesServeHttps_WritesThroughEitherWithTheCaAndRefusesWithoutIt()
    {
        var container = InProcessServer.NewContainer();
        await using var first = await InProcessServer.StartAsync(_azurite.ConnectionString, container, nodeId: "tls-1", tls: _tls);
        await using var second = await InProcessServer.StartAsync(_azurite.ConnectionString, container, nodeId: "tls-2", tls: _tls);
        Assert.Equal(Uri.UriSchemeHttps, first.Url.Scheme);

        // Through the second node: keys it does not own are forwarded to the first over https with the CA.
        using (var client = new AzKvClient(new AzKvClientOptions { Endpoints = [second.Url], CaFile = _tls.CaCertificateFile, MaxRetries = 8 }))
        {
            // Both nodes own partitions (the ring hands some to the second once it has joined), so some writes are forwarded.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while ((await client.GetClusterAsync()).Partitions.Where(p => p.Serving).Select(p => p.Owner).Distinct().Count() < 2)
            {
                Assert.True(DateTime.UtcNow < deadline, "The partitions were not spread over both nodes within 60 s.");
                await Task.Delay(200);
            }

            for (var i = 0; i < 16; i++)
            {
                await client.PutAsync($"tls/k{i}", System.Text.Encoding.UTF8.GetBytes($"v{i}"));
            }
        }

        using (var client = new AzKvClient(new AzKvClientOptions { Endpoints = [first.Url], CaFile = _tls.CaCertificateFile }))
        {
            for (var i = 0; i < 16; i++)
            {
                var value = await client.GetAsync($"tls/k{i}");
                Assert.Equal($"v{i}", System.Text.Encoding.UTF8.GetString(value!.Value.Span));
            }
        }

        using var wrongCa = new AzKvClient(new AzKvClientOptions { Endpoints = [first.Url], CaFile = _otherCa.CaCertificateFile, MaxRetries = 0 });
        var refused = await Assert.ThrowsAsync<AzKvConnectionException>(() => wrongCa.GetAsync("tls/k0"));
        Assert.NotNull(FindAuthenticationFailure(refused));
    }

    private static System.Security.Authentication.AuthenticationException? FindAuthenticationFailure(Exception ex)
    {
        for (Exception? inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Security.Authentication.AuthenticationException found)
            {
                return found;
            }
        }

        return null;
    }
}
