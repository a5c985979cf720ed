namespace AzKv.Client.Serialization;

// The JSON bodies of docs/api.md that are not public models themselves. Property names follow
// the web defaults (camelCase) of ClientJsonContext.

/// <summary>An RFC 9457 problem document.</summary>
internal sealed class ProblemDocument
{
    public string? Type { get; set; }

    public string? Title { get; set; }

    public int? Status { get; set; }

    public string? Detail { get; set; }

    public string? Instance { get; set; }
}

/// <summary>The body of a successful PUT.</summary>
internal sealed class PutResponse
{
    public string? Key { get; set; }

    public string? Etag { get; set; }

    public bool? Created { get; set; }
}

/// <summary>The body of a 300 Multiple Choices GET.</summary>
internal sealed class SiblingsResponse
{
    public string? Key { get; set; }

    public string? Etag { get; set; }

    public List<KvSibling>? Versions { get; set; }
}

/// <summary>One page of <c>GET /v1/kv</c>.</summary>
internal sealed class ListResponse
{
    public List<KvItem>? Items { get; set; }

    public string? Next { get; set; }
}

/// <summary>The body of a watch long poll.</summary>
internal sealed class WatchResponse
{
    public List<WatchChange>? Changes { get; set; }

    public string? Cursor { get; set; }
}

/// <summary>One change in a watch response.</summary>
internal sealed class WatchChange
{
    public string? Key { get; set; }

    public string? Type { get; set; }

    public string? Etag { get; set; }

    public string? ContentType { get; set; }

    public long? Size { get; set; }

    public string? Label { get; set; }
}

/// <summary>The body of <c>POST /v1/snapshots</c>.</summary>
internal sealed class CreateSnapshotBody
{
    public string? Name { get; set; }

    public List<AzKvSnapshotFilter>? Filters { get; set; }

    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public long? RetentionSeconds { get; set; }
}

/// <summary>One page of <c>GET /v1/snapshots</c>.</summary>
internal sealed class SnapshotListBody
{
    public List<AzKvSnapshot>? Items { get; set; }

    public string? Next { get; set; }
}
