namespace AzKv.Client;

/// <summary>One change seen by a watch.</summary>
public sealed class KvChange
{
    /// <summary>Creates a change.</summary>
    public KvChange(string key, KvChangeType type, string? etag, string? contentType, long? size, string cursor)
    {
        Key = key;
        Type = type;
        ETag = etag;
        ContentType = contentType;
        Size = size;
        Cursor = cursor;
    }

    /// <summary>The key that changed.</summary>
    public string Key { get; }

    /// <summary>The label of the entry that changed; null for the null label.</summary>
    public string? Label { get; init; }

    /// <summary>Put or delete.</summary>
    public KvChangeType Type { get; }

    /// <summary>The key's ETag after the change (for a delete, its tombstone's), when the server sends one.</summary>
    public string? ETag { get; }

    /// <summary>The new content type of a put; null for a delete.</summary>
    public string? ContentType { get; }

    /// <summary>The new value's size of a put; null for a delete.</summary>
    public long? Size { get; }

    /// <summary>
    /// A cursor to persist: watching again from it never misses a change after this one. It may
    /// deliver again the changes that came in the same response as this one (at-least-once).
    /// </summary>
    public string Cursor { get; }
}

/// <summary>The kinds of change.</summary>
public enum KvChangeType
{
    /// <summary>A type this client does not know (a newer server).</summary>
    Unknown = 0,

    /// <summary>The key was written.</summary>
    Put = 1,

    /// <summary>The key was deleted.</summary>
    Delete = 2,
}
