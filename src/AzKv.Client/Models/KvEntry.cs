using System.Text;

namespace AzKv.Client;

/// <summary>
/// A key's current value as <see cref="AzKvClient.GetAsync(string, CancellationToken)"/> read it. When concurrent writes in
/// different regions left several versions (the <c>siblings</c> conflict policy),
/// <see cref="Siblings"/> holds them, <see cref="ETag"/> is the context ETag that resolves them
/// (write the merged value with <see cref="KvCondition.IfMatch(string)"/>), and
/// <see cref="Value"/> is empty.
/// </summary>
public sealed class KvEntry
{
    /// <summary>Creates an entry.</summary>
    public KvEntry(string key, ReadOnlyMemory<byte> value, string etag, string contentType, IReadOnlyList<KvSibling>? siblings = null)
    {
        Key = key;
        Value = value;
        ETag = etag;
        ContentType = contentType;
        Siblings = siblings ?? [];
    }

    /// <summary>The key.</summary>
    public string Key { get; }

    /// <summary>The label the entry was read under; null for the null label.</summary>
    public string? Label { get; init; }

    /// <summary>The value bytes; empty when <see cref="HasSiblings"/>.</summary>
    public ReadOnlyMemory<byte> Value { get; }

    /// <summary>The ETag (quoted, opaque); the context ETag when <see cref="HasSiblings"/>.</summary>
    public string ETag { get; }

    /// <summary>The content type stored with the value; empty when <see cref="HasSiblings"/>.</summary>
    public string ContentType { get; }

    /// <summary>Concurrent versions to resolve; empty normally.</summary>
    public IReadOnlyList<KvSibling> Siblings { get; }

    /// <summary>True when the server answered 300 with concurrent versions.</summary>
    public bool HasSiblings => Siblings.Count > 0;

    /// <summary>The value decoded as UTF-8.</summary>
    public string GetString() => Encoding.UTF8.GetString(Value.Span);
}

/// <summary>One of several concurrent versions of a key (a 300 answer).</summary>
public sealed class KvSibling
{
    /// <summary>The version's content type.</summary>
    public string ContentType { get; init; } = string.Empty;

    /// <summary>The version's value.</summary>
    public ReadOnlyMemory<byte> Value { get; init; }

    /// <summary>The region that wrote it.</summary>
    public string Region { get; init; } = string.Empty;

    /// <summary>Its hybrid logical clock timestamp.</summary>
    public long Hlc { get; init; }
}

/// <summary>The outcome of a successful write.</summary>
/// <param name="ETag">The key's new ETag (quoted).</param>
/// <param name="Created">True when the key did not exist before (201), false when it was replaced (200).</param>
public sealed record PutResult(string ETag, bool Created);
