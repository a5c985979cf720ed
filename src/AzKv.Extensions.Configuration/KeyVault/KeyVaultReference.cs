using System.Text.Json;

namespace AzKv.Extensions.Configuration.KeyVault;

/// <summary>Recognises and parses Key Vault references (Azure App Configuration's format).</summary>
internal static class KeyVaultReference
{
    /// <summary>The media type of a reference (stored with <c>;charset=utf-8</c>).</summary>
    public const string MediaType = "application/vnd.microsoft.appconfig.keyvaultref+json";

    /// <summary>The content type to store a reference with.</summary>
    public const string ContentType = MediaType + ";charset=utf-8";

    /// <summary>True when <paramref name="contentType"/> is a reference's, parameters and case ignored.</summary>
    public static bool IsReference(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return false;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var mediaType = (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
        return mediaType.Equals(MediaType, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The secret URI of a reference: <c>{"uri":"https://&lt;vault&gt;/secrets/&lt;name&gt;[/&lt;version&gt;]"}</c>.
    /// Returns false with a reason (that never quotes the value) when it is not one.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> value, out Uri? secretUri, out string reason)
    {
        secretUri = null;
        string? text;
        try
        {
            var reader = new Utf8JsonReader(value, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("uri", out var uri)
                || uri.ValueKind != JsonValueKind.String)
            {
                reason = "the value is not a JSON object with a \"uri\" string";
                return false;
            }

            text = uri.GetString();
        }
        catch (JsonException)
        {
            reason = "the value is not JSON";
            return false;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var parsed) || parsed.Scheme != Uri.UriSchemeHttps)
        {
            reason = "\"uri\" is not an https URI";
            return false;
        }

        var segments = parsed.AbsolutePath.Trim('/').Split('/');
        if (segments.Length is < 2 or > 3 || !segments[0].Equals("secrets", StringComparison.OrdinalIgnoreCase) || segments.Any(string.IsNullOrEmpty))
        {
            reason = $"\"uri\" {parsed.GetLeftPart(UriPartial.Path)} is not https://<vault>/secrets/<name>[/<version>]";
            return false;
        }

        secretUri = new Uri(parsed.GetLeftPart(UriPartial.Path));
        reason = string.Empty;
        return true;
    }
}
