using System.Text.Json.Serialization;

namespace AzKv.Cluster;

/// <summary><c>members/{nodeId}.json</c>: a node's heartbeat record.</summary>
internal sealed record MemberRecord
{
    /// <summary>Node id.</summary>
    public required string NodeId { get; init; }

    /// <summary>Base URL other nodes forward to.</summary>
    public required string Endpoint { get; init; }

    /// <summary>Roles (<c>owner</c>, <c>frontend</c>).</summary>
    public required IReadOnlyList<string> Roles { get; init; }

    /// <summary>When this incarnation started.</summary>
    public DateTimeOffset Started { get; init; }

    /// <summary>Wall-clock time of the last beat (informational; liveness uses the observer's own clock).</summary>
    public DateTimeOffset LastBeat { get; init; }

    /// <summary>Beat counter: every beat rewrites the record, so its ETag changes.</summary>
    public long Beat { get; init; }

    /// <summary>True when the node owns partitions.</summary>
    [JsonIgnore]
    public bool IsOwner => Roles.Contains("owner", StringComparer.Ordinal);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(MemberRecord))]
internal sealed partial class MemberJsonContext : JsonSerializerContext;
