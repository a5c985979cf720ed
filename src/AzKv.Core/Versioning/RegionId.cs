namespace AzKv.Versioning;

/// <summary>
/// Rules for region ids, the names that key version vectors and dots: 1 to <see cref="MaxLength"/> ASCII characters
/// from <c>[A-Za-z0-9._-]</c>, compared ordinally (case-sensitive). Keeping them ASCII makes the ordinal order of the
/// .NET string equal to the byte order of the encoding, so every language sorts them the same way.
/// </summary>
public static class RegionId
{
    /// <summary>Maximum length of a region id in characters (= bytes).</summary>
    public const int MaxLength = 64;

    /// <summary>True when <paramref name="region"/> is a valid region id.</summary>
    public static bool IsValid(string? region)
    {
        if (region is null || region.Length == 0 || region.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in region)
        {
            if (!IsAllowed(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when <paramref name="ascii"/> is the encoding of a valid region id.</summary>
    public static bool IsValid(ReadOnlySpan<byte> ascii)
    {
        if (ascii.IsEmpty || ascii.Length > MaxLength)
        {
            return false;
        }

        foreach (var b in ascii)
        {
            if (!IsAllowed((char)b))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="region"/> is valid.</summary>
    public static void ThrowIfInvalid(string? region, string paramName)
    {
        if (!IsValid(region))
        {
            throw new ArgumentException(
                $"A region id must be 1 to {MaxLength} characters of [A-Za-z0-9._-]; got '{region}'.",
                paramName);
        }
    }

    private static bool IsAllowed(char c) =>
        char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_' || c == '.';
}
