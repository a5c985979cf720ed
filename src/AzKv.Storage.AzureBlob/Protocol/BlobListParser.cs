using System.Globalization;
using System.Xml;

namespace AzKv.Storage.AzureBlob.Protocol;

/// <summary>
/// Parses the List Blobs response body:
/// <code>
/// &lt;EnumerationResults&gt;
///   &lt;Blobs&gt;&lt;Blob&gt;&lt;Name Encoded="..."&gt;..&lt;/Name&gt;&lt;Properties&gt;
///     &lt;Last-Modified/&gt; &lt;Etag/&gt; &lt;Content-Length/&gt; &lt;BlobType/&gt; &lt;LeaseState/&gt; &lt;Sealed/&gt; ...
///   &lt;/Properties&gt;&lt;/Blob&gt;...&lt;/Blobs&gt;
///   &lt;NextMarker/&gt;
/// &lt;/EnumerationResults&gt;
/// </code>
/// Page blobs (never written by AzKv) are skipped: <see cref="BlobKind"/> has no value for them.
/// </summary>
internal static class BlobListParser
{
    // Depths below EnumerationResults (depth 0).
    private const int BlobsDepth = 1;
    private const int BlobDepth = 2;
    private const int BlobChildDepth = 3;
    private const int PropertyDepth = 4;

    private static readonly XmlReaderSettings Settings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreWhitespace = true,
        IgnoreProcessingInstructions = true,
        Async = false,
    };

    /// <summary>Parses one page. The stream is an in-memory buffer (Azure.Core buffers the body).</summary>
    /// <exception cref="XmlException">The body is not a List Blobs document.</exception>
    /// <exception cref="FormatException">A property has a malformed value.</exception>
    public static BlobListPage Parse(Stream body)
    {
        var items = new List<BlobItem>();
        string? nextMarker = null;

        string? name = null;
        string? etag = null;
        long contentLength = 0;
        BlobKind? kind = null;
        DateTimeOffset lastModified = default;
        LeaseState leaseState = LeaseState.Available;
        bool isSealed = false;
        bool inProperties = false;

        using XmlReader reader = XmlReader.Create(body, Settings);
        reader.MoveToContent();
        if (reader.NodeType != XmlNodeType.Element || reader.LocalName != "EnumerationResults")
        {
            throw new XmlException("The List Blobs response is not an EnumerationResults document.");
        }

        while (!reader.EOF)
        {
            if (reader.NodeType == XmlNodeType.Element)
            {
                int depth = reader.Depth;
                string element = reader.LocalName;
                if (depth == BlobsDepth && element == "NextMarker")
                {
                    string marker = reader.ReadElementContentAsString();
                    nextMarker = marker.Length == 0 ? null : marker;
                    continue;
                }

                if (depth == BlobDepth && element == "Blob")
                {
                    name = null;
                    etag = null;
                    contentLength = 0;
                    kind = null;
                    lastModified = default;
                    leaseState = LeaseState.Available;
                    isSealed = false;
                    inProperties = false;
                }
                else if (depth == BlobChildDepth && element == "Name")
                {
                    bool encoded = string.Equals(reader.GetAttribute("Encoded"), "true", StringComparison.OrdinalIgnoreCase);
                    string raw = reader.ReadElementContentAsString();
                    name = encoded ? Uri.UnescapeDataString(raw) : raw;
                    continue;
                }
                else if (depth == BlobChildDepth && element == "Properties")
                {
                    inProperties = !reader.IsEmptyElement;
                }
                else if (depth == PropertyDepth && inProperties)
                {
                    switch (element)
                    {
                        case "Etag":
                            etag = BlobResponses.QuoteETag(reader.ReadElementContentAsString());
                            continue;
                        case "Content-Length":
                            contentLength = long.Parse(reader.ReadElementContentAsString(), NumberStyles.None, CultureInfo.InvariantCulture);
                            continue;
                        case "BlobType":
                            kind = BlobResponses.ParseBlobKind(reader.ReadElementContentAsString());
                            continue;
                        case "Last-Modified":
                            string text = reader.ReadElementContentAsString();
                            if (!BlobResponses.TryParseHttpDate(text, out lastModified))
                            {
                                throw new FormatException("A listed blob has a malformed Last-Modified value.");
                            }

                            continue;
                        case "LeaseState":
                            leaseState = BlobResponses.ParseLeaseState(reader.ReadElementContentAsString());
                            continue;
                        case "Sealed":
                            isSealed = string.Equals(reader.ReadElementContentAsString(), "true", StringComparison.OrdinalIgnoreCase);
                            continue;
                        default:
                            break;
                    }
                }
            }
            else if (reader.NodeType == XmlNodeType.EndElement)
            {
                if (reader.Depth == BlobChildDepth && reader.LocalName == "Properties")
                {
                    inProperties = false;
                }
                else if (reader.Depth == BlobDepth && reader.LocalName == "Blob" && name is not null && etag is not null && kind is BlobKind blobKind)
                {
                    items.Add(new BlobItem(name, etag, contentLength, blobKind, lastModified, leaseState, isSealed));
                }
            }

            reader.Read();
        }

        return new BlobListPage(items, nextMarker);
    }
}
