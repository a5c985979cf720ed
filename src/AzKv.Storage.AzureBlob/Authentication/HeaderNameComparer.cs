namespace AzKv.Storage.AzureBlob.Authentication;

/// <summary>
/// Orders lowercased <c>x-ms-</c> header names the way the storage service (and Azurite's
/// <c>localeCompare</c>) does when it rebuilds the string-to-sign. Both sort culturally, not
/// ordinally: punctuation before digits before letters, so <c>x-ms-meta-v_1</c> sorts before
/// <c>x-ms-meta-v1</c>, while an ordinal sort puts it after (a known cause of 403s with
/// metadata names that mix <c>_</c> and digits; azure-sdk-for-net#41328, azure-sdk-for-python#10277).
/// We cannot use the culture comparer: the build runs with InvariantGlobalization, where it is
/// ordinal. Header names are ASCII; anything outside <c>[a-z0-9_-]</c> falls back to ordinal order
/// after letters.
/// </summary>
internal sealed class HeaderNameComparer : IComparer<string>
{
    public static readonly HeaderNameComparer Instance = new();

    private HeaderNameComparer()
    {
    }

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        int common = Math.Min(x.Length, y.Length);
        for (int i = 0; i < common; i++)
        {
            int wx = Weight(x[i]);
            int wy = Weight(y[i]);
            if (wx != wy)
            {
                return wx < wy ? -1 : 1;
            }
        }

        return x.Length.CompareTo(y.Length);
    }

    private static int Weight(char c) => c switch
    {
        '_' => 0,
        '-' => 1,
        >= '0' and <= '9' => 10 + (c - '0'),
        >= 'a' and <= 'z' => 100 + (c - 'a'),
        _ => 1000 + c,
    };
}
