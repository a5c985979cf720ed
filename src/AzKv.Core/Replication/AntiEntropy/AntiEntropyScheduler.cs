using System.Collections.Immutable;
using AzKv.Partitions;
using AzKv.Threading;
using Microsoft.Extensions.Logging;

namespace AzKv.Replication;

/// <summary>
/// Runs anti-entropy for this node: every <c>interval</c> (0 = only on demand) and on <see cref="VerifyAsync"/>,
/// compares each partition this node serves with each peer region (<see cref="AntiEntropyVerifier"/>) and keeps
/// the last result per peer. One verification runs at a time.
/// </summary>
public sealed partial class AntiEntropyScheduler : IAsyncDisposable
{
    private readonly ImmutableDictionary<string, IAntiEntropyPeer> _peers;
    private readonly Func<IReadOnlyList<PartitionOwner>> _owners;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly BackgroundLoop _loop = new();
    private ImmutableDictionary<string, AntiEntropyResult> _last = ImmutableDictionary.Create<string, AntiEntropyResult>(StringComparer.Ordinal);

    /// <summary>Creates the scheduler; call <see cref="Start"/> for the periodic runs.</summary>
    /// <param name="peers">One per peer region.</param>
    /// <param name="owners">The partitions this node serves right now.</param>
    /// <param name="interval">Time between runs; zero turns the periodic run off.</param>
    /// <param name="time">Clock.</param>
    /// <param name="logger">Logger.</param>
    public AntiEntropyScheduler(IEnumerable<IAntiEntropyPeer> peers, Func<IReadOnlyList<PartitionOwner>> owners, TimeSpan interval, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(owners);
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero);
        _peers = peers.ToImmutableDictionary(p => p.Region, StringComparer.Ordinal);
        _owners = owners;
        _interval = interval;
        _time = time;
        _logger = logger;
    }

    /// <summary>The peer regions.</summary>
    public IEnumerable<string> PeerRegions => _peers.Keys.Order(StringComparer.Ordinal);

    /// <summary>The last verification per peer region.</summary>
    public ImmutableDictionary<string, AntiEntropyResult> LastResults => Volatile.Read(ref _last);

    /// <summary>Starts the periodic runs (none when the interval is zero).</summary>
    public void Start()
    {
        if (_interval > TimeSpan.Zero)
        {
            _loop.Start(RunAsync);
        }
    }

    /// <summary>Verifies this node's partitions against <paramref name="region"/> now; null for a region that is not a peer.</summary>
    public async Task<AntiEntropyResult?> VerifyAsync(string region, CancellationToken cancellationToken)
    {
        if (!_peers.TryGetValue(region, out var peer))
        {
            return null;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var started = _time.GetUtcNow();
            var clock = _time.GetTimestamp();
            var partitions = ImmutableArray.CreateBuilder<PartitionVerification>();
            foreach (var owner in _owners())
            {
                if (owner.IsServing)
                {
                    partitions.Add(await AntiEntropyVerifier.VerifyAsync(owner, peer, cancellationToken).ConfigureAwait(false));
                }
            }

            var result = new AntiEntropyResult(region, started, _time.GetElapsedTime(clock), partitions.ToImmutable());
            ImmutableInterlocked.Update(ref _last, last => last.SetItem(region, result));
            if (result.DivergentKeys > 0)
            {
                PartitionMetrics.AntiEntropyDivergentKeys.Add(result.DivergentKeys, new KeyValuePair<string, object?>("peer", region));
                PartitionMetrics.AntiEntropyRepairedKeys.Add(result.RepairedKeys, new KeyValuePair<string, object?>("peer", region));
                AntiEntropyLog.Repaired(_logger, region, result.DivergentKeys, result.RepairedKeys, result.DifferingLeaves);
            }

            PartitionMetrics.AntiEntropyRuns.Add(1, new KeyValuePair<string, object?>("peer", region), new KeyValuePair<string, object?>("outcome", result.Outcome));
            if (result.Error is { } error)
            {
                AntiEntropyLog.Failed(_logger, region, error);
            }

            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops the periodic runs (idempotent: the host stops it and the container disposes it).</summary>
    public ValueTask DisposeAsync() => _loop.DisposeAsync();

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_interval, _time, cancellationToken).ConfigureAwait(false);
                foreach (var region in PeerRegions)
                {
                    await VerifyAsync(region, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is Storage.BlobStorageException or PartitionStorageException or HttpRequestException or IOException)
            {
                AntiEntropyLog.Failed(_logger, "*", ex.Message);
            }
        }
    }
}

internal static partial class AntiEntropyLog
{
    [LoggerMessage(4200, LogLevel.Warning, "Anti-entropy with {Peer}: {Divergent} divergent keys in {Leaves} leaf buckets, {Repaired} repaired.")]
    public static partial void Repaired(ILogger logger, string peer, int divergent, int repaired, int leaves);

    [LoggerMessage(4201, LogLevel.Warning, "Anti-entropy with {Peer} failed: {Error}")]
    public static partial void Failed(ILogger logger, string peer, string error);
}
