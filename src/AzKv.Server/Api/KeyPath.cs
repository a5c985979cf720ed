using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AzKv.Server.Api;

/// <summary>
/// Extracts a key from the request target (docs/api.md, "Keys in URLs"). Kestrel decodes the path
/// except <c>%2F</c>, which would make <c>%252F</c> and <c>%2F</c> ambiguous, so the key is decoded
/// here from the raw target, exactly once.
/// </summary>
internal static class KeyPath
{
    public const string Prefix = "/v1/kv/";

    /// <summary>The decoded key, or null with a reason when the target is not valid percent-encoded UTF-8.</summary>
    public static string? TryGetKey(HttpContext context, out string? error)
    {
        error = null;
        var raw = RawTarget(context);
        var query = raw.IndexOf('?', StringComparison.Ordinal);
        var path = query >= 0 ? raw[..query] : raw;
        if (path.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || path.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            path = new Uri(path).AbsolutePath;
        }

        if (!path.StartsWith(Prefix, StringComparison.Ordinal))
        {
            error = "The key must follow /v1/kv/.";
            return null;
        }

        return Decode(path.AsSpan(Prefix.Length), out error);
    }

    /// <summary>
    /// The request target as the client sent it (Kestrel's raw target). A context without one (a host
    /// that does not set it) falls back to the path re-encoded, which cannot tell <c>%2F</c> from <c>/</c>.
    /// </summary>
    public static string RawTarget(HttpContext context) =>
        context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw
            ? raw
            : context.Request.Path.ToUriComponent() + context.Request.QueryString.ToUriComponent();

    /// <summary>Percent-decodes UTF-8 strictly: a bad escape or invalid UTF-8 is an error, never a replacement character.</summary>
    public static string? Decode(ReadOnlySpan<char> encoded, out string? error)
    {
        error = null;
        var bytes = new byte[encoded.Length];
        var count = 0;
        for (var i = 0; i < encoded.Length; i++)
        {
            var c = encoded[i];
            if (c == '%')
            {
                if (i + 2 >= encoded.Length || !IsHex(encoded[i + 1]) || !IsHex(encoded[i + 2]))
                {
                    error = $"Bad percent-escape at position {i} of the key.";
                    return null;
                }

                bytes[count++] = (byte)((HexValue(encoded[i + 1]) << 4) | HexValue(encoded[i + 2]));
                i += 2;
            }
            else if (c > 0x7F)
            {
                error = "Non-ASCII characters in the key must be percent-encoded UTF-8.";
                return null;
            }
            else
            {
                bytes[count++] = (byte)c;
            }
        }

        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, count);
        }
        catch (DecoderFallbackException)
        {
            error = "The key is not valid UTF-8.";
            return null;
        }
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
