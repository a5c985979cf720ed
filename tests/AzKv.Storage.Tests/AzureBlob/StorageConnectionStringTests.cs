using System.Security.Cryptography;
using System.Text;
using AzKv.Storage.AzureBlob.Configuration;

namespace AzKv.Storage.Tests.AzureBlob;

public sealed class StorageConnectionStringTests
{
    private const string AzuriteKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const string SecretKey = "c2VjcmV0LWtleS1ieXRlcy10aGF0LW11c3QtbmV2ZXItbGVhaw==";

    [Fact]
    public void Parse_WhenUseDevelopmentStorage_UsesAzuriteAccountKeyAndEndpoint()
    {
        var parsed = StorageConnectionString.Parse("UseDevelopmentStorage=true");

        Assert.Equal("devstoreaccount1", parsed.AccountName);
        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1"), parsed.BlobEndpoint);
        Assert.Equal(Sign(AzuriteKey, "probe"), parsed.CreateCredential().ComputeSignature("probe"));
    }

    [Fact]
    public void Parse_WhenBlobEndpointGiven_UsesItAndTheKey()
    {
        var parsed = StorageConnectionString.Parse(
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteKey};BlobEndpoint=http://127.0.0.1:11000/devstoreaccount1;");

        Assert.Equal("devstoreaccount1", parsed.AccountName);
        Assert.Equal(new Uri("http://127.0.0.1:11000/devstoreaccount1"), parsed.BlobEndpoint);
        Assert.Equal(Sign(AzuriteKey, "probe"), parsed.CreateCredential().ComputeSignature("probe"));
    }

    [Fact]
    public void Parse_WhenEndpointSuffixGiven_BuildsEndpointFromProtocolAccountAndSuffix()
    {
        var parsed = StorageConnectionString.Parse(
            $"DefaultEndpointsProtocol=https;AccountName=azkvweu;AccountKey={SecretKey};EndpointSuffix=core.chinacloudapi.cn");

        Assert.Equal(new Uri("https://azkvweu.blob.core.chinacloudapi.cn"), parsed.BlobEndpoint);
    }

    [Fact]
    public void Parse_WhenNoEndpointOrSuffix_DefaultsToHttpsPublicCloud()
    {
        var parsed = StorageConnectionString.Parse($"AccountName=azkvweu;AccountKey={SecretKey}");

        Assert.Equal(new Uri("https://azkvweu.blob.core.windows.net"), parsed.BlobEndpoint);
    }

    [Fact]
    public void Parse_WhenNamesInOtherCaseWithSpacesAndOtherServices_ParsesBlobParts()
    {
        var parsed = StorageConnectionString.Parse(
            $" accountname = azkvweu ; ACCOUNTKEY={SecretKey} ; QueueEndpoint=https://q.example ; ;defaultendpointsprotocol=HTTP");

        Assert.Equal("azkvweu", parsed.AccountName);
        Assert.Equal(new Uri("http://azkvweu.blob.core.windows.net"), parsed.BlobEndpoint);
    }

    [Theory]
    [InlineData("AccountName=azkvweu", "AccountKey")]
    [InlineData("AccountKey=" + SecretKey, "AccountName")]
    [InlineData("AccountName=azkv-weu;AccountKey=" + SecretKey, "AccountName")]
    [InlineData("AccountName=azkvweu;AccountKey=" + SecretKey + ";DefaultEndpointsProtocol=ftp", "DefaultEndpointsProtocol")]
    [InlineData("AccountName=azkvweu;AccountKey=" + SecretKey + ";BlobEndpoint=not a url", "BlobEndpoint")]
    [InlineData("AccountName=azkvweu;AccountKey=" + SecretKey + ";BlobEndpoint=https://x.example/?sv=1", "BlobEndpoint")]
    [InlineData("AccountName=azkvweu;AccountKey=" + SecretKey + ";EndpointSuffix=a/b", "EndpointSuffix")]
    [InlineData("AccountName=azkvweu;AccountName=other;AccountKey=" + SecretKey, "AccountName")]
    [InlineData("UseDevelopmentStorage=false", "UseDevelopmentStorage")]
    [InlineData("UseDevelopmentStorage=true;AccountName=azkvweu", "UseDevelopmentStorage")]
    public void Parse_WhenPartMissingOrInvalid_ThrowsNamingThePart(string connectionString, string part)
    {
        var error = Assert.Throws<ArgumentException>(() => StorageConnectionString.Parse(connectionString));

        Assert.Contains(part, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretKey, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AccountName=azkvweu;AccountKey=" + SecretKey + "!")]
    [InlineData("AccountName=azkvweu;AccountKey=" + SecretKey + "A")]
    public void Parse_WhenKeyMalformed_ThrowsWithoutEchoingIt(string connectionString)
    {
        var error = Assert.Throws<ArgumentException>(() => StorageConnectionString.Parse(connectionString));

        Assert.Contains("AccountKey", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretKey[..12], error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_WhenPartHasNoEquals_ThrowsWithoutEchoingIt()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            StorageConnectionString.Parse("AccountName=azkvweu;" + SecretKey.TrimEnd('=')));

        Assert.Contains("Part 2", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretKey[..12], error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_WhenSharedAccessSignature_ThrowsWithoutEchoingTheToken()
    {
        const string Sas = "sv=2025-01-05&sig=c2VjcmV0LXNpZw%3D%3D";
        var error = Assert.Throws<ArgumentException>(() =>
            StorageConnectionString.Parse("BlobEndpoint=https://azkvweu.blob.core.windows.net;SharedAccessSignature=" + Sas));

        Assert.Contains("SharedAccessSignature", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_WhenEmpty_Throws()
    {
        Assert.Throws<ArgumentException>(() => StorageConnectionString.Parse("  ; "));
    }

    [Fact]
    public void ToString_WhenParsed_NeverContainsTheKey()
    {
        var parsed = StorageConnectionString.Parse($"AccountName=azkvweu;AccountKey={SecretKey}");

        Assert.DoesNotContain(SecretKey, parsed.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(SecretKey, parsed.CreateCredential().ToString(), StringComparison.Ordinal);
        Assert.Contains("azkvweu", parsed.ToString(), StringComparison.Ordinal);
    }

    private static string Sign(string base64Key, string text) =>
        Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(base64Key), Encoding.UTF8.GetBytes(text)));
}
