namespace AzKv.Client;

/// <summary>ETag helpers. An AzKv ETag is opaque; on the wire it is a quoted string.</summary>
internal static class ETags
{
    /// <summary>Returns <paramref name="etag"/> quoted, as <c>If-Match</c> needs it; a value already quoted is kept.</summary>
    public static string Normalize(string etag)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(etag);
        var trimmed = etag.Trim();
        if (trimmed.StartsWith('"') || trimmed.StartsWith("W/\"", StringComparison.Ordinal) || trimmed == "*")
        {
            return trimmed;
        }

        return "\"" + trimmed + "\"";
    }
}
