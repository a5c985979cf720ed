namespace AzKv.Storage.AzureBlob;

/// <summary>
/// Checks of container and blob names that the SDK does not make before sending (it escapes
/// names itself), so a bad name fails as an argument error instead of reaching another blob.
/// </summary>
internal static class BlobNames
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

    /// <summary>
    /// Checks a blob name: 1-1024 characters, no "." or ".." path segment (System.Uri removes
    /// those, so the request would address another blob).
    /// </summary>
    public static string ValidateBlobName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > MaxBlobNameLength)
        {
            throw new ArgumentException($"A blob name must be 1-{MaxBlobNameLength} characters.", nameof(name));
        }

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
            }
        }

        return name;
    }
}
