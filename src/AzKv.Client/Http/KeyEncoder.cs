using System.Buffers;
using System.Text;

namespace AzKv.Client.Http;

/// <summary>
/// Turns a key into the URL path after <c>/v1/kv/</c> (docs/api.md, "Keys in URLs"): <c>/</c> is
/// kept, RFC 3986 unreserved characters are kept, every other UTF-8 byte is <c>%XX</c>.
/// </summary>
internal static class KeyEncoder
{
    /// <summary>Largest key, in UTF-8 bytes.</summary>
    public const int MaxKeyBytes = 1024;

    private const string HexDigits = "0123456789ABCDEF";

    private static readonly SearchValues<byte> Unreserved =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"u8);

    /// <summary>Percent-encodes <paramref name="key"/> for a request path.</summary>
    /// <exception cref="ArgumentException">The key is empty or not valid UTF-16 (a lone surrogate).</exception>
    public static string Encode(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length == 0)
        {
            throw new ArgumentException("A key must not be empty.", nameof(key));
        }

        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        byte[] bytes;
        try
        {
            bytes = utf8.GetBytes(key);
        }
        catch (EncoderFallbackException ex)
        {
            throw new ArgumentException("A key must be valid Unicode text (it contains a lone surrogate).", nameof(key), ex);
        }

        var builder = new StringBuilder(bytes.Length * 3);
        var segmentStart = 0;
        for (var i = 0; i <= bytes.Length; i++)
        {
            if (i == bytes.Length || bytes[i] == (byte)'/')
            {
                AppendSegment(builder, bytes.AsSpan(segmentStart, i - segmentStart));
                if (i < bytes.Length)
                {
                    builder.Append('/');
                }

                segmentStart = i + 1;
            }
        }

        return builder.ToString();
    }

    private static void AppendSegment(StringBuilder builder, ReadOnlySpan<byte> segment)
    {
        // "." and ".." segments would be removed by URL normalization (RFC 3986 §5.2.4) on the
        // way to the server; %2E keeps them (the server percent-decodes the raw target).
        var isDotSegment = segment.SequenceEqual("."u8) || segment.SequenceEqual(".."u8);
        foreach (var b in segment)
        {
            if (IsUnreserved(b) && !(isDotSegment && b == (byte)'.'))
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(HexDigits[b >> 4]).Append(HexDigits[b & 0xF]);
            }
        }
    }

    private static bool IsUnreserved(byte b) => Unreserved.Contains(b);
}
