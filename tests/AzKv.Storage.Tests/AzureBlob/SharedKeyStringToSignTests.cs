using Azure.Core;
using Azure.Core.Pipeline;
using AzKv.Storage.AzureBlob;
using AzKv.Storage.AzureBlob.Authentication;

namespace AzKv.Storage.Tests.AzureBlob;

public sealed class SharedKeyStringToSignTests
{
    private const string AzuriteKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const string Date = "Fri, 21 Nov 2025 23:00:00 GMT";
    private const string LeaseId = "0f8fad5b-d9cb-469f-a165-70867728950e";

    [Fact]
    public void Build_WhenAppendBlockOnPathStyleEndpoint_MatchesSpecLayoutAndKnownSignature()
    {
        var headers = Headers(
            ("x-ms-version", "2025-01-05"),
            ("x-ms-lease-id", LeaseId),
            ("x-ms-date", Date),
            ("x-ms-blob-condition-appendpos", "5"));

        string stringToSign = SharedKeyStringToSign.Build(
            "PUT", "/devstoreaccount1/azkv/partitions/0001/wal/a.log", "?comp=appendblock", headers, 11, "devstoreaccount1");

        const string Expected =
            "PUT\n\n\n11\n\n\n\n\n\n\n\n\n" +
            "x-ms-blob-condition-appendpos:5\n" +
            "x-ms-date:" + Date + "\n" +
            "x-ms-lease-id:" + LeaseId + "\n" +
            "x-ms-version:2025-01-05\n" +
            "/devstoreaccount1/devstoreaccount1/azkv/partitions/0001/wal/a.log\n" +
            "comp:appendblock";
        Assert.Equal(Expected, stringToSign);

        // Known answer, computed independently (Python hmac/base64) for the Azurite key.
        var credential = new SharedKeyCredential("devstoreaccount1", Convert.FromBase64String(AzuriteKey));
        Assert.Equal("58lBrVQBKtK2CkqIdllNoWbKS7RNqxZ2+0m64mw6qt0=", credential.ComputeSignature(stringToSign));
    }

    [Fact]
    public void Build_WhenStandardHeadersPresent_PlacesEachOnItsLine()
    {
        var headers = Headers(
            ("Content-Type", "application/json"),
            ("If-Match", "\"0x8D1\""),
            ("If-None-Match", "*"),
            ("Range", "bytes=0-9"),
            ("Content-MD5", "md5=="),
            ("Content-Encoding", "gzip"),
            ("Content-Language", "en"),
            ("If-Modified-Since", "m"),
            ("If-Unmodified-Since", "u"),
            ("x-ms-date", Date));

        string stringToSign = SharedKeyStringToSign.Build("put", "/acct/c/b", string.Empty, headers, 3, "acct");

        Assert.Equal(
            "PUT\ngzip\nen\n3\nmd5==\napplication/json\n\nm\n\"0x8D1\"\n*\nu\nbytes=0-9\nx-ms-date:" + Date + "\n/acct/acct/c/b",
            stringToSign);
    }

    [Theory]
    [InlineData(0L, null, "")]
    [InlineData(null, null, "")]
    [InlineData(null, "0", "")]
    [InlineData(null, "42", "42")]
    [InlineData(1024L, null, "1024")]
    public void Build_WhenContentLengthIsZeroOrAbsent_LeavesItsLineEmpty(long? contentLength, string? header, string expectedLine)
    {
        var headers = header is null ? Headers() : Headers(("Content-Length", header));

        string[] lines = SharedKeyStringToSign.Build("PUT", "/a/c", string.Empty, headers, contentLength, "a").Split('\n');

        Assert.Equal(expectedLine, lines[3]);
    }

    [Fact]
    public void Build_WhenQueryHasSeveralParameters_LowercasesSortsAndDecodes()
    {
        string stringToSign = SharedKeyStringToSign.Build(
            "GET",
            "/azkvweu/azkv",
            "?restype=container&comp=list&prefix=partitions%2F0001%2Fa%20b&MaxResults=2&marker=2%211%21MDA-",
            Headers(),
            null,
            "azkvweu");

        Assert.EndsWith(
            "/azkvweu/azkv\ncomp:list\nmarker:2!1!MDA-\nmaxresults:2\nprefix:partitions/0001/a b\nrestype:container",
            stringToSign,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Build_WhenQueryParameterRepeats_JoinsSortedValuesWithCommas()
    {
        string stringToSign = SharedKeyStringToSign.Build("GET", "/a/c", "?include=snapshots&comp=list&include=metadata", Headers(), null, "a");

        Assert.EndsWith("/a/a/c\ncomp:list\ninclude:metadata,snapshots", stringToSign, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_WhenPathIsEmpty_UsesRootSlash()
    {
        Assert.EndsWith("\n/acct/", SharedKeyStringToSign.Build("GET", string.Empty, string.Empty, Headers(), null, "acct"), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_WhenHeaderNamesHaveUppercaseUnderscoresAndDigits_LowercasesAndSortsLikeTheService()
    {
        var headers = Headers(
            ("X-MS-Meta-v1", "b"),
            ("x-ms-meta-V_1", "a"),
            ("x-ms-meta-v", "c"),
            ("x-ms-date", Date),
            ("x-ms-meta-owner", "  node-1 "));

        string stringToSign = SharedKeyStringToSign.Build("PUT", "/a/c/b", string.Empty, headers, null, "a");

        Assert.Contains(
            "x-ms-date:" + Date + "\nx-ms-meta-owner:node-1\nx-ms-meta-v:c\nx-ms-meta-v_1:a\nx-ms-meta-v1:b\n/a/a/c/b",
            stringToSign,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Build_WhenGivenAzureCoreRequest_SignsEscapedPathQueryAndBodyLength()
    {
        HttpPipeline pipeline = HttpPipelineBuilder.Build(new AzureBlobStoreOptions());
        using HttpMessage message = pipeline.CreateMessage();
        Request request = message.Request;
        request.Method = RequestMethod.Put;
        request.Uri.Reset(new Uri("http://127.0.0.1:11000/devstoreaccount1/azkv"));
        request.Uri.AppendPath("/dir/a%20b%2Bc.txt", escape: false);
        request.Uri.AppendQuery("comp", "metadata", escapeValue: false);
        request.Headers.SetValue("x-ms-date", Date);
        request.Headers.SetValue("x-ms-meta-epoch", "7");
        request.Headers.SetValue("If-Match", "\"0x8D1\"");
        request.Content = RequestContent.Create(new byte[5]);

        string stringToSign = SharedKeyStringToSign.Build(request, "devstoreaccount1");

        Assert.Equal(
            "PUT\n\n\n5\n\n\n\n\n\"0x8D1\"\n\n\n\n" +
            "x-ms-date:" + Date + "\nx-ms-meta-epoch:7\n" +
            "/devstoreaccount1/devstoreaccount1/azkv/dir/a%20b%2Bc.txt\ncomp:metadata",
            stringToSign);
    }

    private static List<KeyValuePair<string, string>> Headers(params (string Name, string Value)[] headers)
    {
        var list = new List<KeyValuePair<string, string>>(headers.Length);
        foreach ((string name, string value) in headers)
        {
            list.Add(new KeyValuePair<string, string>(name, value));
        }

        return list;
    }
}
