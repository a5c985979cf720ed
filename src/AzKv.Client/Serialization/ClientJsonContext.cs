using System.Text.Json;
using System.Text.Json.Serialization;

namespace AzKv.Client.Serialization;

/// <summary>Source-generated JSON for every body the client reads (no reflection, trimming-safe).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ProblemDocument))]
[JsonSerializable(typeof(PutResponse))]
[JsonSerializable(typeof(SiblingsResponse))]
[JsonSerializable(typeof(ListResponse))]
[JsonSerializable(typeof(WatchResponse))]
[JsonSerializable(typeof(ClusterStatus))]
[JsonSerializable(typeof(AzKvSnapshot))]
[JsonSerializable(typeof(SnapshotListBody))]
[JsonSerializable(typeof(CreateSnapshotBody))]
internal sealed partial class ClientJsonContext : JsonSerializerContext
{
}
