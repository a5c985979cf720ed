using System.Text;
using System.Xml;
using AzKv.Storage.AzureBlob.Protocol;

namespace AzKv.Storage.Tests.AzureBlob;

public sealed class BlobListParserTests
{
    private const string Page = """
        <?xml version="1.0" encoding="utf-8"?>
        <EnumerationResults ServiceEndpoint="https://azkvweu.blob.core.windows.net/" ContainerName="azkv">
          <Prefix>partitions/</Prefix>
          <MaxResults>3</MaxResults>
          <Blobs>
            <Blob>
              <Name>partitions/0001/manifest.json</Name>
              <Properties>
                <Creation-Time>Fri, 21 Nov 2025 22:00:00 GMT</Creation-Time>
                <Last-Modified>Fri, 21 Nov 2025 23:00:00 GMT</Last-Modified>
                <Etag>0x8DE29A1B2C3D4E5</Etag>
                <Content-Length>120</Content-Length>
                <Content-Type>application/json</Content-Type>
                <BlobType>BlockBlob</BlobType>
                <LeaseStatus>unlocked</LeaseStatus>
                <LeaseState>available</LeaseState>
              </Properties>
              <OrMetadata />
            </Blob>
            <Blob>
              <Name Encoded="true">partitions/0001/wal/a%01b.log</Name>
              <Properties>
                <Last-Modified>Fri, 21 Nov 2025 23:00:01 GMT</Last-Modified>
                <Etag>"0x8DE29A1B2C3D4E6"</Etag>
                <Content-Length>4096</Content-Length>
                <BlobType>AppendBlob</BlobType>
                <LeaseState>leased</LeaseState>
                <Sealed>true</Sealed>
              </Properties>
            </Blob>
            <Blob>
              <Name>partitions/0001/disk.vhd</Name>
              <Properties>
                <Last-Modified>Fri, 21 Nov 2025 23:00:02 GMT</Last-Modified>
                <Etag>0x8DE29A1B2C3D4E7</Etag>
                <Content-Length>512</Content-Length>
                <BlobType>PageBlob</BlobType>
              </Properties>
            </Blob>
          </Blobs>
          <NextMarker>2!96!MDAwMDI3IXBhcnRpdGlvbnMvMDAwMi8-</NextMarker>
        </EnumerationResults>
        """;

    [Fact]
    public void Parse_WhenPageHasBlockAppendAndPageBlobs_ReturnsBlockAndAppendItems()
    {
        BlobListPage page = Parse(Page);

        Assert.Equal(2, page.Items.Count);
        BlobItem manifest = page.Items[0];
        Assert.Equal("partitions/0001/manifest.json", manifest.Name);
        Assert.Equal("\"0x8DE29A1B2C3D4E5\"", manifest.ETag);
        Assert.Equal(120, manifest.ContentLength);
        Assert.Equal(BlobKind.Block, manifest.Kind);
        Assert.Equal(new DateTimeOffset(2025, 11, 21, 23, 0, 0, TimeSpan.Zero), manifest.LastModified);
        Assert.Equal(LeaseState.Available, manifest.LeaseState);
        Assert.False(manifest.IsSealed);

        BlobItem segment = page.Items[1];
        Assert.Equal("partitions/0001/wal/a\u0001b.log", segment.Name);
        Assert.Equal("\"0x8DE29A1B2C3D4E6\"", segment.ETag);
        Assert.Equal(BlobKind.Append, segment.Kind);
        Assert.Equal(LeaseState.Leased, segment.LeaseState);
        Assert.True(segment.IsSealed);
        Assert.Equal("2!96!MDAwMDI3IXBhcnRpdGlvbnMvMDAwMi8-", page.ContinuationToken);
    }

    [Fact]
    public void Parse_WhenLastPage_ReturnsNullContinuationToken()
    {
        BlobListPage page = Parse("<EnumerationResults><Blobs /><NextMarker /></EnumerationResults>");

        Assert.Empty(page.Items);
        Assert.Null(page.ContinuationToken);
    }

    [Fact]
    public void Parse_WhenNotAnEnumeration_ThrowsXmlException()
    {
        Assert.Throws<XmlException>(() => Parse("<Error><Code>InternalError</Code></Error>"));
    }

    private static BlobListPage Parse(string xml)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(xml));
        return BlobListParser.Parse(stream);
    }
}
