namespace AzKv.Client;

/// <summary>One key of a listing.</summary>
public sealed class KvItem
{
    /// <summary>The key.</summary>
    public string Key { get; init; } = string.Empty;

    /// <summary>The entry's label; null for the null label.</summary>
    public string? Label { get; init; }

    /// <summary>The ETag (quoted, opaque).</summary>
    public string ETag { get; init; } = string.Empty;

    /// <summary>The content type stored with the value.</summary>
    public string ContentType { get; init; } = string.Empty;

    /// <summary>The value's size in bytes.</summary>
    public long Size { get; init; }

    /// <summary>The value, when the listing asked for values; else null.</summary>
    public ReadOnlyMemory<byte>? Value { get; init; }
}

/// <summary>One page of a listing.</summary>
/// <param name="Items">The keys, in ordinal order of their UTF-8 bytes.</param>
/// <param name="Next">The cursor of the next page; null on the last page.</param>
public sealed record KvPage(IReadOnlyList<KvItem> Items, string? Next);
