using System.Text;

namespace AzKv.Versioning;

/// <summary>
/// Turns region id bytes read from a WAL record or checkpoint into a string without allocating for regions already
/// seen: a cluster has only a handful of region ids, and replay decodes them millions of times. Copy-on-write array,
/// bounded, lock-free.
/// </summary>
internal static class RegionIdCache
{
    private const int Capacity = 128;
    private static string[] _regions = [];

    /// <summary>The string for <paramref name="ascii"/>, which the caller has checked with <see cref="RegionId.IsValid(ReadOnlySpan{byte})"/>.</summary>
    public static string Get(ReadOnlySpan<byte> ascii)
    {
        var regions = Volatile.Read(ref _regions);
        foreach (var region in regions)
        {
            if (Matches(region, ascii))
            {
                return region;
            }
        }

        var created = Encoding.ASCII.GetString(ascii);
        if (regions.Length < Capacity)
        {
            string[] updated = [.. regions, created];
            Interlocked.CompareExchange(ref _regions, updated, regions);
        }

        return created;
    }

    private static bool Matches(string region, ReadOnlySpan<byte> ascii)
    {
        if (region.Length != ascii.Length)
        {
            return false;
        }

        for (var i = 0; i < ascii.Length; i++)
        {
            if (region[i] != ascii[i])
            {
                return false;
            }
        }

        return true;
    }
}
