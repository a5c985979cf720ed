using System.Text;

namespace AzKv.Storage.AzureBlob.Protocol;

/// <summary>Validation and URL escaping of container and blob names.</summary>
internal static class BlobPaths
{
    private const int MaxBlobNameLength = 1024;

    /// <summary>
    /// Checks a container name against the service rules: 3-63 characters, lowercase letters,
    /// digits and single hyphens, starting and ending with a letter or digit.
    /// </summary>
    public static void ValidateContainerName(string containerName)
    {
        ArgumentNullException.ThrowIfNull(containerName);
        bool valid = containerName.Length is >= 3 and <= 63
            && (char.IsAsciiLetterLower(containerName[0]) || char.IsAsciiDigit(containerName[0]))
            && containerName[^1] != '-';
        for (int i = 0; valid && i < containerName.Length; i++)
        {
            char c = containerName[i];
            valid = char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || (c == '-' && containerName[i - 1] != '-');
        }

        if (!valid)
        {
            throw new ArgumentException(
                "A container name must be 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.",
                nameof(containerName));
        }
    }

    /// <summary>The URL of <paramref name="containerName"/> under <paramref name="blobEndpoint"/>.</summary>
    public static Uri ContainerUri(Uri blobEndpoint, string containerName)
    {
        var builder = new UriBuilder(blobEndpoint)
        {
            Path = blobEndpoint.AbsolutePath.TrimEnd('/') + "/" + containerName,
            Query = string.Empty,
            Fragment = string.Empty,
        };
        return builder.Uri;
    }

    /// <summary>
    /// Escapes a blob name for the URL path: each '/'-separated segment is percent-encoded
    /// (everything but RFC 3986 unreserved characters), the slashes are kept. Returns the name
    /// itself when nothing needs escaping (the common case: AzKv's own names are plain ASCII).
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty, too long, or has a "." or ".." segment
    /// (System.Uri would remove those, so the signed path would not be the path sent).</exception>
    public static string EscapeBlobName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > MaxBlobNameLength)
        {
            throw new ArgumentException($"A blob name must be 1-{MaxBlobNameLength} characters.", nameof(name));
        }

        bool plain = true;
        int segmentStart = 0;
        for (int i = 0; i <= name.Length; i++)
        {
            if (i == name.Length || name[i] == '/')
            {
                int segmentLength = i - segmentStart;
                if ((segmentLength == 1 && name[segmentStart] == '.')
                    || (segmentLength == 2 && name[segmentStart] == '.' && name[segmentStart + 1] == '.'))
                {
                    throw new ArgumentException("A blob name must not have '.' or '..' path segments.", nameof(name));
                }

                segmentStart = i + 1;
                continue;
            }

            plain &= IsUnreserved(name[i]);
        }

        if (plain)
        {
            return name;
        }

        var sb = new StringBuilder(name.Length + 16);
        int start = 0;
        while (true)
        {
            int slash = name.IndexOf('/', start);
            string segment = slash < 0 ? name[start..] : name[start..slash];
            sb.Append(Uri.EscapeDataString(segment));
            if (slash < 0)
            {
                break;
            }

            sb.Append('/');
            start = slash + 1;
        }

        return sb.ToString();
    }

    private static bool IsUnreserved(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~';
}
