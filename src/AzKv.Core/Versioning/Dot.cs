using System.Globalization;

namespace AzKv.Versioning;

/// <summary>
/// The identity of one write: the region that accepted it and that region's counter for the key at that moment
/// (1, 2, 3… per key and region). Two versions with the same dot are the same write.
/// </summary>
public readonly record struct Dot
{
    /// <summary>Creates a dot.</summary>
    /// <exception cref="ArgumentException">The region id is invalid or the counter is 0.</exception>
    public Dot(string region, ulong counter)
    {
        RegionId.ThrowIfInvalid(region, nameof(region));
        ArgumentOutOfRangeException.ThrowIfZero(counter);
        Region = region;
        Counter = counter;
    }

    /// <summary>The region that accepted the write.</summary>
    public string Region { get; }

    /// <summary>The region's counter for this key, starting at 1.</summary>
    public ulong Counter { get; }

    /// <summary>Ordinal order by region, then counter: the canonical order of siblings.</summary>
    public static int CompareCanonical(Dot left, Dot right)
    {
        var byRegion = string.CompareOrdinal(left.Region, right.Region);
        return byRegion != 0 ? byRegion : left.Counter.CompareTo(right.Counter);
    }

    /// <summary><c>region:counter</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Region}:{Counter}");
}
