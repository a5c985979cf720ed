namespace AzKv.Client;

/// <summary>The condition a write is made under. <c>default</c> is <see cref="None"/>.</summary>
public readonly record struct KvCondition
{
    private KvCondition(KvConditionKind kind, string? etag)
    {
        Kind = kind;
        ETag = etag;
    }

    /// <summary>Write unconditionally.</summary>
    public static KvCondition None => default;

    /// <summary>Create only: write only if the key does not exist (<c>If-None-Match: *</c>).</summary>
    public static KvCondition IfNoneMatch => new(KvConditionKind.IfNoneMatch, null);

    /// <summary>What the condition checks.</summary>
    public KvConditionKind Kind { get; }

    /// <summary>The ETag of <see cref="KvConditionKind.IfMatch"/>, quoted; else null.</summary>
    public string? ETag { get; }

    /// <summary>Compare-and-swap: write only if the key's current ETag is <paramref name="etag"/> (<c>If-Match</c>).</summary>
    /// <param name="etag">An ETag as returned by the server; quotes are added when missing.</param>
    public static KvCondition IfMatch(string etag) => new(KvConditionKind.IfMatch, ETags.Normalize(etag));
}

/// <summary>The kinds of <see cref="KvCondition"/>.</summary>
public enum KvConditionKind
{
    /// <summary>No condition.</summary>
    None = 0,

    /// <summary><c>If-Match: etag</c>.</summary>
    IfMatch = 1,

    /// <summary><c>If-None-Match: *</c>.</summary>
    IfNoneMatch = 2,
}
