using System.Collections.Immutable;
using System.Globalization;
using AzKv.Cluster;
using AzKv.Partitions;
using AzKv.Replication;
using AzKv.Server.Api;
using AzKv.Server.Hosting;
using AzKv.Storage;
using AzKv.Versioning;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AzKv.Server.Node;

/// <summary>
/// Runs this node's <see cref="AntiEntropyScheduler"/> (Core) over the partitions it serves, against every peer region
/// named in <c>AzKv__Peers</c>, through the peers' internal anti-entropy endpoints (<see cref="HttpAntiEntropyPeer"/>).
/// Period: <c>AzKv__Replication__AntiEntropyIntervalSeconds</c>.
/// </summary>
internal sealed class AntiEntropyService : IHostedService, IAsyncDisposable
{
    public AntiEntropyService(NodeSupervisor host, ReplicationSetup replication, Forwarder forwarder, ServerOptions options, TimeProvider time, ILogger<AntiEntropyService> logger)
    {
        var peers = replication.Transports.Select((t, i) => new HttpAntiEntropyPeer(t.SourceRegion, replication.Sources[i], forwarder));
        Scheduler = new AntiEntropyScheduler(
            peers,
            () => [.. Enumerable.Range(0, host.PartitionCount).Select(host.ServingOwner).OfType<PartitionOwner>()],
            TimeSpan.FromSeconds(options.Replication.AntiEntropyIntervalSeconds),
            time,
            logger);
    }

    /// <summary>The scheduler (on-demand runs and the last result per peer).</summary>
    public AntiEntropyScheduler Scheduler { get; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Scheduler.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await Scheduler.DisposeAsync().ConfigureAwait(false);

    public ValueTask DisposeAsync() => Scheduler.DisposeAsync();
}

/// <summary>
/// A peer region read through its owner nodes' <c>/v1/internal/antientropy</c> endpoints: the owner of a partition is
/// found in the peer's manifest (its storage, which this region reads anyway for replication), and called with this
/// node's own identity.
/// </summary>
internal sealed class HttpAntiEntropyPeer(string region, IBlobStore storage, Forwarder forwarder) : IAntiEntropyPeer
{
    private readonly ManifestStore _manifests = new(storage);

    public string Region { get; } = region;

    public async Task<ImmutableArray<UInt128>> GetNodesAsync(int partition, int level, IReadOnlyList<int> parents, CancellationToken cancellationToken)
    {
        var owner = await OwnerAsync(partition, cancellationToken).ConfigureAwait(false);
        var result = ImmutableArray.CreateBuilder<UInt128>(Math.Max(1, parents.Count * MerkleTree.Fanout));
        foreach (var chunk in level == 0 ? [[]] : parents.Chunk(AntiEntropyEndpoints.MaxIndices))
        {
            var query = string.Create(CultureInfo.InvariantCulture, $"/v1/internal/antientropy/{partition}/tree?level={level}&parents={string.Join(',', chunk)}");
            var answer = await forwarder.GetAsync(new Uri(owner, query), ApiJson.Context.AntiEntropyTreeResponse, cancellationToken).ConfigureAwait(false)
                ?? throw new AntiEntropyPeerException($"Region {Region}'s owner of partition {partition} ({owner}) did not answer.");
            if (answer.Fanout != MerkleTree.Fanout || answer.Depth != MerkleTree.Depth)
            {
                throw new AntiEntropyPeerException($"Region {Region} builds {answer.Fanout}-ary trees of depth {answer.Depth}; this node {MerkleTree.Fanout}-ary of depth {MerkleTree.Depth}.");
            }

            foreach (var text in answer.Hashes)
            {
                result.Add(MerkleTree.TryParse(text, out var hash) ? hash : throw new AntiEntropyPeerException($"Region {Region} answered a hash that does not parse."));
            }
        }

        return result.ToImmutable();
    }

    public async Task<IReadOnlyList<KeyValuePair<string, SiblingSet>>> GetLeavesAsync(int partition, IReadOnlyList<int> leaves, CancellationToken cancellationToken)
    {
        var owner = await OwnerAsync(partition, cancellationToken).ConfigureAwait(false);
        var result = new List<KeyValuePair<string, SiblingSet>>();
        foreach (var chunk in leaves.Chunk(AntiEntropyEndpoints.MaxIndices))
        {
            var query = string.Create(CultureInfo.InvariantCulture, $"/v1/internal/antientropy/{partition}/leaves?ids={string.Join(',', chunk)}");
            var answer = await forwarder.GetAsync(new Uri(owner, query), ApiJson.Context.AntiEntropyLeavesResponse, cancellationToken).ConfigureAwait(false)
                ?? throw new AntiEntropyPeerException($"Region {Region}'s owner of partition {partition} ({owner}) did not answer.");
            foreach (var entry in answer.Entries)
            {
                result.Add(AntiEntropyEndpoints.TryDecode(entry, out var set)
                    ? new(entry.Key, set)
                    : throw new AntiEntropyPeerException($"Region {Region} answered an invalid sibling set for a key."));
            }
        }

        return result;
    }

    private async Task<Uri> OwnerAsync(int partition, CancellationToken cancellationToken)
    {
        VersionedManifest? manifest;
        try
        {
            manifest = await _manifests.ReadAsync(partition, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStorageException ex)
        {
            throw new AntiEntropyPeerException($"Region {Region}'s manifest of partition {partition} cannot be read: {ex.Message}", ex);
        }

        return manifest?.Manifest.Owner?.Endpoint is { } endpoint && Uri.TryCreate(endpoint, UriKind.Absolute, out var uri)
            ? uri
            : throw new AntiEntropyPeerException($"Region {Region} has no owner of partition {partition}.");
    }
}
