using System.Text.RegularExpressions;
using AzKv.Versioning;

namespace AzKv.Server.Hosting;

/// <summary>
/// Every setting of a node (docs/configuration.md), bound from the <c>AzKv</c> configuration
/// section: local.settings.json <c>Values</c>, environment variables (<c>AzKv__Region</c>) and the
/// command line (<c>--AzKv:Region=west</c>). <see cref="Validate"/> names the first wrong setting.
/// </summary>
public sealed partial class ServerOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "AzKv";

    /// <summary>This region's id.</summary>
    public string Region { get; set; } = "local";

    /// <summary>This node's id, unique in its region. Default: host name and process id.</summary>
    public string? NodeId { get; set; }

    /// <summary>Comma-separated roles: <c>owner</c>, <c>frontend</c>.</summary>
    public string Roles { get; set; } = "owner,frontend";

    /// <summary>Where to listen (semicolon-separated URLs).</summary>
    public string Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>The URL other nodes reach this one at; default: the first of <see cref="Urls"/>.</summary>
    public string? AdvertisedUrl { get; set; }

    /// <summary>Storage settings.</summary>
    public StorageSettings Storage { get; set; } = new();

    /// <summary>Cluster settings.</summary>
    public ClusterSettings Cluster { get; set; } = new();

    /// <summary>Partition owner settings.</summary>
    public PartitionSettings Partition { get; set; } = new();

    /// <summary>Request limits.</summary>
    public LimitSettings Limits { get; set; } = new();

    /// <summary>Membership heartbeats.</summary>
    public MembershipSettings Membership { get; set; } = new();

    /// <summary>Authentication.</summary>
    public AuthSettings Auth { get; set; } = new();

    /// <summary>HTTPS: the node's certificate, and the CA it trusts when it calls other nodes.</summary>
    public TlsSettings Tls { get; set; } = new();

    /// <summary>Other regions (multi-region replication).</summary>
    public List<PeerSettings> Peers { get; set; } = [];

    /// <summary>
    /// Conflict policy per key prefix (<c>prefix=lww|siblings;…</c>), written to cluster.json when set;
    /// empty: keep what cluster.json says (default: every key LWW).
    /// </summary>
    public string? ConflictPolicies { get; set; }

    /// <summary>Replication pacing.</summary>
    public ReplicationSettings Replication { get; set; } = new();

    /// <summary>The replication log on Event Hubs (docs/replication.md); unset: regions tail each other's blob WAL.</summary>
    public EventHubsSettings EventHubs { get; set; } = new();

    /// <summary>OpenTelemetry export (docs/observability.md).</summary>
    public TelemetrySettings Telemetry { get; set; } = new();

    /// <summary>The node id to use (configured, else host name and process id).</summary>
    public string EffectiveNodeId => string.IsNullOrWhiteSpace(NodeId)
        ? $"{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}"
        : NodeId;

    /// <summary>The parsed roles.</summary>
    public IReadOnlyList<string> RoleList =>
        Roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Returns every problem with the settings, each naming its setting; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!RegionPattern().IsMatch(Region ?? string.Empty) || !RegionId.IsValid(Region))
        {
            errors.Add($"AzKv__Region '{Region}' is invalid: use 1–32 characters of a-z, 0-9 and '-'.");
        }

        if (!string.IsNullOrWhiteSpace(NodeId) && !NodeIdPattern().IsMatch(NodeId))
        {
            errors.Add($"AzKv__NodeId '{NodeId}' is invalid: use 1–64 characters of a-z, 0-9, '-', '.' and '_'.");
        }

        var roles = RoleList;
        if (roles.Count == 0 || roles.Any(r => r is not ("owner" or "frontend")))
        {
            errors.Add($"AzKv__Roles '{Roles}' is invalid: use 'owner', 'frontend' or 'owner,frontend'.");
        }

        foreach (var url in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                errors.Add($"AzKv__Urls contains '{url}', which is not an absolute http(s) URL.");
            }
        }

        if (!string.IsNullOrWhiteSpace(AdvertisedUrl) && !Uri.TryCreate(AdvertisedUrl, UriKind.Absolute, out _))
        {
            errors.Add($"AzKv__AdvertisedUrl '{AdvertisedUrl}' is not an absolute URL.");
        }

        Storage.Validate(errors);
        if (Cluster.PartitionCount is < 1 or > 4096)
        {
            errors.Add($"AzKv__Cluster__PartitionCount {Cluster.PartitionCount} is out of range (1–4096).");
        }

        if (Partition.LeaseDurationSeconds is < 15 or > 60)
        {
            errors.Add($"AzKv__Partition__LeaseDurationSeconds {Partition.LeaseDurationSeconds} is out of range (15–60).");
        }
        else if (Partition.LeaseSafetyMarginSeconds is { } margin && !(margin > 0 && margin < Partition.LeaseDurationSeconds * 2 / 3.0))
        {
            errors.Add($"AzKv__Partition__LeaseSafetyMarginSeconds {margin} is out of range: it must be greater than 0 (reads are served only while the lease is certainly held) and less than two thirds of the lease.");
        }

        if (Partition.IdempotencyWindowSeconds is < 1 or > 604_800)
        {
            errors.Add($"AzKv__Partition__IdempotencyWindowSeconds {Partition.IdempotencyWindowSeconds} is out of range (1–604800 seconds).");
        }

        if (Partition.CheckpointEveryBytes < 1024)
        {
            errors.Add($"AzKv__Partition__CheckpointEveryBytes {Partition.CheckpointEveryBytes} is out of range (at least 1024).");
        }

        if (Limits.MaxValueBytes is < 1 or > 4 * 1024 * 1024 - 64 * 1024)
        {
            errors.Add($"AzKv__Limits__MaxValueBytes {Limits.MaxValueBytes} is out of range (1–{4 * 1024 * 1024 - 64 * 1024}).");
        }

        if (Limits.MaxRequestHeaderBytes is < 4096 or > 1024 * 1024)
        {
            errors.Add($"AzKv__Limits__MaxRequestHeaderBytes {Limits.MaxRequestHeaderBytes} is out of range (4096–1048576).");
        }

        if (Limits.RequestHeadersTimeoutSeconds is < 1 or > 300)
        {
            errors.Add($"AzKv__Limits__RequestHeadersTimeoutSeconds {Limits.RequestHeadersTimeoutSeconds} is out of range (1–300).");
        }

        if (Limits.MaxConnections is < 1)
        {
            errors.Add($"AzKv__Limits__MaxConnections {Limits.MaxConnections} must be positive (or unset for no limit).");
        }

        if (Membership.HeartbeatMilliseconds is < 100 or > 60_000)
        {
            errors.Add($"AzKv__Membership__HeartbeatMilliseconds {Membership.HeartbeatMilliseconds} is out of range (100–60000).");
        }

        Auth.Validate(errors);
        Tls.Validate(Urls, errors);

        for (var i = 0; i < Peers.Count; i++)
        {
            Peers[i].Validate(i, Region ?? string.Empty, errors);
            if (Peers.Take(i).Any(p => string.Equals(p.Region, Peers[i].Region, StringComparison.Ordinal)))
            {
                errors.Add($"AzKv__Peers__{i}__Region '{Peers[i].Region}' is listed twice.");
            }
        }

        if (!AzKv.Versioning.ConflictPolicies.TryParse(ConflictPolicies, out _, out var policyError))
        {
            errors.Add($"AzKv__ConflictPolicies is invalid: {policyError} Write prefix=lww or prefix=siblings, separated by ';'.");
        }

        EventHubsSettings.Validate("AzKv__EventHubs__", EventHubs.ConnectionString, EventHubs.FullyQualifiedNamespace, errors);
        for (var i = 0; i < Peers.Count; i++)
        {
            var peerName = $"AzKv__Peers__{i}__";
            EventHubsSettings.Validate(peerName + "EventHubs", Peers[i].EventHubsConnectionString, Peers[i].EventHubsNamespace, errors);
            if (!EventHubs.IsEnabled && (!string.IsNullOrWhiteSpace(Peers[i].EventHubsConnectionString) || !string.IsNullOrWhiteSpace(Peers[i].EventHubsNamespace)))
            {
                errors.Add($"{peerName}EventHubs… is set but this region has no Event Hubs namespace: set AzKv__EventHubs__ConnectionString or AzKv__EventHubs__FullyQualifiedNamespace too (a region reads peers' hubs only when it publishes to its own).");
            }
        }

        if (Replication.PollMilliseconds is < 10 or > 10_000)
        {
            errors.Add($"AzKv__Replication__PollMilliseconds {Replication.PollMilliseconds} is out of range (10–10000).");
        }

        if (Replication.AntiEntropyIntervalSeconds != 0 && Replication.AntiEntropyIntervalSeconds is < 10 or > 604_800)
        {
            errors.Add($"AzKv__Replication__AntiEntropyIntervalSeconds {Replication.AntiEntropyIntervalSeconds} is out of range (0 = off, or 10–604800).");
        }

        Telemetry.Validate(errors);
        return errors;
    }

    [GeneratedRegex("^[a-z0-9-]{1,32}$")]
    private static partial Regex RegionPattern();

    [GeneratedRegex("^[a-z0-9._-]{1,64}$")]
    private static partial Regex NodeIdPattern();
}

/// <summary>How to reach this region's storage.</summary>
public sealed class StorageSettings
{
    /// <summary>Shared Key connection string (local development).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Blob endpoint used with Entra ID.</summary>
    public string? AccountUrl { get; set; }

    /// <summary>Client id of a user-assigned managed identity.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>The container.</summary>
    public string Container { get; set; } = "azkv";

    internal void Validate(List<string> errors) => ValidateAccess("AzKv__Storage__", ConnectionString, AccountUrl, Container, errors);

    /// <summary>Checks how a storage container is reached (this region's, or a peer's under <paramref name="prefix"/>).</summary>
    internal static void ValidateAccess(string prefix, string? connectionString, string? accountUrl, string? container, List<string> errors)
    {
        var hasConnection = !string.IsNullOrWhiteSpace(connectionString);
        var hasUrl = !string.IsNullOrWhiteSpace(accountUrl);
        if (hasConnection == hasUrl)
        {
            errors.Add($"Set exactly one of {prefix}ConnectionString (Shared Key, local) and {prefix}AccountUrl (Entra ID).");
        }

        if (hasUrl && !Uri.TryCreate(accountUrl, UriKind.Absolute, out _))
        {
            errors.Add($"{prefix}AccountUrl '{accountUrl}' is not an absolute URL.");
        }

        if (!System.Text.RegularExpressions.Regex.IsMatch(container ?? string.Empty, "^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$"))
        {
            errors.Add($"{prefix}Container '{container}' is not a valid container name (3–63 of a-z, 0-9, '-').");
        }
    }
}

/// <summary>Cluster settings.</summary>
public sealed class ClusterSettings
{
    /// <summary>Partitions, used when the cluster is created.</summary>
    public int PartitionCount { get; set; } = 32;
}

/// <summary>Partition owner settings.</summary>
public sealed class PartitionSettings
{
    /// <summary>Lease on active segments, seconds.</summary>
    public int LeaseDurationSeconds { get; set; } = 30;

    /// <summary>
    /// Seconds taken off the lease for serving reads (clock drift, the service starting the lease
    /// after our send). Unset: min(5, LeaseDurationSeconds / 5). Must be positive.
    /// </summary>
    public double? LeaseSafetyMarginSeconds { get; set; }

    /// <summary>
    /// Seconds an Idempotency-Key is remembered after its write (a retry within them answers the original
    /// outcome). 600 (10 minutes) by default; 1 to 604800 (7 days).
    /// </summary>
    public int IdempotencyWindowSeconds { get; set; } = 600;

    /// <summary>WAL bytes after which the owner writes a checkpoint. 64 MiB by default; at least 1024.</summary>
    public long CheckpointEveryBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>The margin in effect.</summary>
    public TimeSpan EffectiveLeaseSafetyMargin => TimeSpan.FromSeconds(LeaseSafetyMarginSeconds ?? Math.Min(5, LeaseDurationSeconds / 5.0));
}

/// <summary>Request limits.</summary>
public sealed class LimitSettings
{
    /// <summary>Largest value accepted.</summary>
    public int MaxValueBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest total size of a request's headers (Kestrel); bearer tokens fit well within the default.</summary>
    public int MaxRequestHeaderBytes { get; set; } = 32 * 1024;

    /// <summary>Seconds a client has to send all its request headers (slowloris guard).</summary>
    public int RequestHeadersTimeoutSeconds { get; set; } = 15;

    /// <summary>
    /// Connections Kestrel keeps open at once (each SSE watch stream holds one; issue 18 measures
    /// 10,000 on one node). Above it new connections are refused instead of exhausting the
    /// process's file descriptors; keep it below <c>ulimit -n</c>. Null: no limit.
    /// </summary>
    public long? MaxConnections { get; set; } = 20_000;
}

/// <summary>Membership settings.</summary>
public sealed class MembershipSettings
{
    /// <summary>
    /// Heartbeat interval, milliseconds. A node is dead after three intervals without a beat, so this
    /// sets failure detection (6 s by default); each beat is a few storage calls per node.
    /// </summary>
    public int HeartbeatMilliseconds { get; set; } = 2000;
}

/// <summary>Another region.</summary>
public sealed class PeerSettings
{
    /// <summary>Its region id.</summary>
    public string? Region { get; set; }

    /// <summary>Its blob endpoint (Entra ID).</summary>
    public string? AccountUrl { get; set; }

    /// <summary>Its Shared Key connection string (local).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Its container.</summary>
    public string Container { get; set; } = "azkv";

    /// <summary>Its Event Hubs namespace's connection string (default: this region's, <c>AzKv__EventHubs__…</c>).</summary>
    public string? EventHubsConnectionString { get; set; }

    /// <summary>Its Event Hubs namespace host name, read with this node's identity (default: this region's).</summary>
    public string? EventHubsNamespace { get; set; }

    internal void Validate(int index, string ownRegion, List<string> errors)
    {
        var name = $"AzKv__Peers__{index}__";
        if (string.IsNullOrWhiteSpace(Region))
        {
            errors.Add(name + "Region is missing.");
        }
        else if (!AzKv.Versioning.RegionId.IsValid(Region) || !System.Text.RegularExpressions.Regex.IsMatch(Region, "^[a-z0-9-]{1,32}$"))
        {
            errors.Add($"{name}Region '{Region}' is invalid: use 1–32 characters of a-z, 0-9 and '-'.");
        }
        else if (string.Equals(Region, ownRegion, StringComparison.Ordinal))
        {
            errors.Add($"{name}Region '{Region}' is this node's own region (AzKv__Region).");
        }

        StorageSettings.ValidateAccess(name, ConnectionString, AccountUrl, Container, errors);
    }
}

/// <summary>
/// This region's Event Hubs namespace: the owners publish committed records to the hub
/// <c>azkv-&lt;region&gt;</c>, and the peers' hubs are read from it unless a peer names its own.
/// Either a connection string (Shared Access Signature, or the local stand-in with
/// <c>UseDevelopmentEmulator=true</c>) or a namespace host name read with the node's identity.
/// </summary>
public sealed class EventHubsSettings
{
    /// <summary>A namespace connection string (no EntityPath).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The namespace host, e.g. <c>azkv-east.servicebus.windows.net</c> (Entra ID).</summary>
    public string? FullyQualifiedNamespace { get; set; }

    /// <summary>True when a namespace is configured.</summary>
    public bool IsEnabled => !string.IsNullOrWhiteSpace(ConnectionString) || !string.IsNullOrWhiteSpace(FullyQualifiedNamespace);

    internal static void Validate(string name, string? connectionString, string? fullyQualifiedNamespace, List<string> errors)
    {
        var (csName, nsName) = name.EndsWith("__", StringComparison.Ordinal)
            ? (name + "ConnectionString", name + "FullyQualifiedNamespace")
            : (name + "ConnectionString", name + "Namespace");
        var hasConnectionString = !string.IsNullOrWhiteSpace(connectionString);
        var hasNamespace = !string.IsNullOrWhiteSpace(fullyQualifiedNamespace);
        if (hasConnectionString && hasNamespace)
        {
            errors.Add($"{csName} and {nsName} are both set: use one.");
            return;
        }

        if (hasConnectionString)
        {
            try
            {
                AzKv.Storage.AzureBlob.EventHubs.EventHubsEndpoint.FromConnectionString(connectionString!);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException)
            {
                // The value is not echoed: it holds a key.
                errors.Add($"{csName} is invalid: {ex.Message}");
            }
        }
        else if (hasNamespace && Uri.CheckHostName(fullyQualifiedNamespace) is not (UriHostNameType.Dns or UriHostNameType.IPv4))
        {
            errors.Add($"{nsName} '{fullyQualifiedNamespace}' is not a host name (expected e.g. azkv-east.servicebus.windows.net).");
        }
    }
}

/// <summary>Replication pacing.</summary>
public sealed class ReplicationSettings
{
    /// <summary>Wait after a read of another region's log that found nothing new (doubles while idle, up to 10×).</summary>
    public int PollMilliseconds { get; set; } = 100;

    /// <summary>
    /// Seconds between anti-entropy runs (each node compares the Merkle trees of the partitions it owns with every peer
    /// region and repairs what it lacks; docs/replication.md). 0 turns the periodic run off (on demand only).
    /// </summary>
    public int AntiEntropyIntervalSeconds { get; set; } = 600;
}

/// <summary>OpenTelemetry export (docs/observability.md). The standard <c>OTEL_EXPORTER_OTLP_*</c> settings work too.</summary>
public sealed class TelemetrySettings
{
    /// <summary>The OTLP protocols <see cref="OtlpProtocol"/> accepts.</summary>
    internal static readonly string[] Protocols = ["grpc", "http/protobuf"];

    /// <summary>
    /// Base URL of an OTLP receiver (a collector, or Azure Monitor's OTLP ingestion); traces, metrics
    /// and logs are exported there when set. Empty: the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>
    /// decides; neither set: nothing is exported.
    /// </summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary><c>grpc</c> (port 4317 by convention) or <c>http/protobuf</c> (4318; <c>/v1/traces</c> etc. are appended).</summary>
    public string OtlpProtocol { get; set; } = "grpc";

    internal void Validate(List<string> errors)
    {
        // The value is not echoed: an endpoint may carry a token in its query or user info.
        if (!string.IsNullOrWhiteSpace(OtlpEndpoint) && !IsHttpUrl(OtlpEndpoint))
        {
            errors.Add("AzKv__Telemetry__OtlpEndpoint is not an absolute http(s) URL (e.g. http://localhost:4317); leave it empty to export nothing.");
        }

        if (!Protocols.Contains(OtlpProtocol, StringComparer.Ordinal))
        {
            errors.Add($"AzKv__Telemetry__OtlpProtocol '{OtlpProtocol}' is invalid: use 'grpc' or 'http/protobuf'.");
        }
    }

    internal static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
}
