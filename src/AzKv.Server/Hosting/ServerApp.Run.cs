using System.Globalization;
using AzKv.Cluster;
using AzKv.Partitions;
using AzKv.Server.Api;
using AzKv.Server.Hosting;
using AzKv.Server.Metrics;
using AzKv.Server.Node;
using AzKv.Replication;
using AzKv.Storage;
using AzKv.Storage.AzureBlob;
using Azure.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AzKv.Server;

public static partial class ServerApp
{
    /// <summary>Exit code for a configuration error.</summary>
    public const int ConfigurationError = 2;

    /// <summary>Exit code when the node could not start (storage unreachable, wrong container...).</summary>
    public const int StartupError = 1;

    private static async Task<int> RunCoreAsync(string[] args, Action<WebApplicationBuilder>? configure, CancellationToken cancellationToken)
    {
        WebApplication app;
        try
        {
            app = Build(args, configure);
        }
        catch (ConfigurationException ex)
        {
            await Console.Error.WriteLineAsync("AzKv cannot start: the configuration is invalid.").ConfigureAwait(false);
            foreach (var error in ex.Errors)
            {
                await Console.Error.WriteLineAsync("  - " + error).ConfigureAwait(false);
            }

            await Console.Error.WriteLineAsync("Settings are described in docs/configuration.md.").ConfigureAwait(false);
            return ConfigurationError;
        }

        await using (app.ConfigureAwait(false))
        {
            try
            {
                await app.RunAsync(cancellationToken).ConfigureAwait(false);
                return 0;
            }
            catch (Exception ex) when (ex is BlobStorageException or InvalidOperationException or HttpRequestException or IOException)
            {
                await Console.Error.WriteLineAsync($"AzKv could not start: {ex.Message}").ConfigureAwait(false);
                return StartupError;
            }
        }
    }

    /// <summary>
    /// Defaults below every other source. ASP.NET Core's hosting diagnostics start an
    /// <see cref="System.Diagnostics.Activity"/> and a logging scope for every request whenever their
    /// category is enabled at any level, even when nothing listens and its only messages (request
    /// started/finished) are Information; on the put path that was one Activity, one scope and a
    /// changed ExecutionContext per request (infra/bench/README.md, "Put path profile"). Off by default; tracing
    /// (OTEL_EXPORTER_OTLP_ENDPOINT) still gets its request spans, because the spans' listener makes
    /// the hosting layer start them, and setting the category's level turns the logs back on.
    /// </summary>
    internal static readonly IReadOnlyDictionary<string, string?> HostingDefaults = new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "None",
    };

    private static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = Directory.GetCurrentDirectory() });

        // Lowest precedence first: local.settings.json (Functions format), then the defaults the
        // builder added (appsettings, environment variables, command line) override it.
        builder.Configuration.Sources.Insert(0, new LocalSettingsConfigurationSource(Path.Combine(builder.Environment.ContentRootPath, "local.settings.json")));
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = HostingDefaults });

        var options = ReadOptions(builder.Configuration);
        var urls = options.Urls;
        builder.WebHost.UseUrls(urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        var certificate = options.Tls.LoadCertificate();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            ConfigureLimits(kestrel.Limits, options.Limits);
            if (certificate is not null)
            {
                kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate);
            }
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(30));

        var endpoint = string.IsNullOrWhiteSpace(options.AdvertisedUrl) ? urls.Split(';')[0].Trim() : options.AdvertisedUrl;
        AddNodeServices(builder.Services, builder.Configuration, options, endpoint);
        builder.Services.AddHostedService<AzKv.Server.Snapshots.SnapshotSweeper>();
        builder.Services.AddOpenApi();
        configure?.Invoke(builder);

        var app = builder.Build();

        // Listen from the start: a listener only sees measurements made after it exists.
        _ = app.Services.GetRequiredService<PrometheusExporter>();
        app.Use(ServerMetrics.RecordAsync);
        app.UseExceptionHandler(errorApp => errorApp.Run(WriteUnexpectedErrorAsync));
        app.MapAzKvApi();
        app.MapOpenApi("/openapi/{documentName}.json").AddEndpointFilter(
            async (invocation, next) => await Security.AccessFilter.CheckAsync(invocation.HttpContext, options.Auth.AnonymousOpenApi ? Security.AccessFilter.Rule.Anonymous : Security.AccessFilter.Rule.ReadAny).ConfigureAwait(false)
                ?? await next(invocation).ConfigureAwait(false));
        return app;
    }

    /// <summary>
    /// Kestrel's limits against oversized and slow clients (docs/security.md): bodies a little over the
    /// largest value (a larger declared value is a 413 problem from the API first), headers, and the
    /// slowloris guards (a deadline for the headers, a minimum body rate).
    /// </summary>
    internal static void ConfigureLimits(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerLimits limits, LimitSettings settings)
    {
        limits.MaxRequestBodySize = (2L * settings.MaxValueBytes) + (64 * 1024);
        limits.MaxRequestHeadersTotalSize = settings.MaxRequestHeaderBytes;
        limits.MaxRequestHeaderCount = 100;
        limits.MaxRequestLineSize = 16 * 1024; // keys are up to 1024 bytes, percent-encoded up to three times that
        limits.RequestHeadersTimeout = TimeSpan.FromSeconds(settings.RequestHeadersTimeoutSeconds);
        limits.MinRequestBodyDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
        limits.MaxConcurrentConnections = settings.MaxConnections;
        limits.Http2.MaxStreamsPerConnection = 100;
    }

    /// <summary>The settings of the <c>AzKv</c> section, validated; a <see cref="ConfigurationException"/> names every wrong one.</summary>
    private static ServerOptions ReadOptions(IConfiguration configuration)
    {
        var options = new ServerOptions();
        try
        {
            configuration.GetSection(ServerOptions.Section).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            throw new ConfigurationException([ex.InnerException?.Message is { } inner ? $"{ex.Message} {inner}" : ex.Message]);
        }

        var errors = options.Validate().Concat(Telemetry.Validate(configuration)).ToList();
        if (errors.Count > 0)
        {
            throw new ConfigurationException(errors);
        }

        return options;
    }

    /// <summary>What a node runs on, Kestrel node and Functions front end alike: storage, membership, partitions (per its roles), forwarding, metrics.</summary>
    private static void AddNodeServices(IServiceCollection services, IConfiguration configuration, ServerOptions options, string endpoint)
    {
        var node = new NodeIdentity(options.EffectiveNodeId, options.Region, endpoint, options.RoleList, options.Cluster.PartitionCount);
        var partitionOptions = new PartitionOptions
        {
            LeaseDuration = TimeSpan.FromSeconds(options.Partition.LeaseDurationSeconds),
            LeaseRenewInterval = TimeSpan.FromSeconds(options.Partition.LeaseDurationSeconds / 3.0),
            LeaseSafetyMargin = options.Partition.EffectiveLeaseSafetyMargin,
            MaxValueBytes = options.Limits.MaxValueBytes,
            IdempotencyWindow = TimeSpan.FromSeconds(options.Partition.IdempotencyWindowSeconds),
            CheckpointEveryBytes = options.Partition.CheckpointEveryBytes,
        };
        partitionOptions.Validate();

        services.AddSingleton(options);
        services.AddSingleton(node);
        services.AddSingleton(partitionOptions);
        services.AddSingleton(new AzKv.Cluster.MembershipOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(options.Membership.HeartbeatMilliseconds) });
        services.AddSingleton(TimeProvider.System);
        Telemetry.Add(services, configuration, options); // before the storage clients: Azure.Core reads its tracing switch once
        services.AddSingleton(CreateStore(options.Storage));
        services.AddSingleton(CreateReplication(options));
        services.AddSingleton<NodeSupervisor>();
        try
        {
            Security.AuthSetup.Add(services, options, node.NodeId);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException([$"AzKv__Auth__SigningKeyFile cannot be read: {ex.Message}"]);
        }

        services.AddSingleton<Forwarder>();
        services.AddSingleton(provider => new AzKv.Server.Snapshots.SnapshotStore(provider.GetRequiredService<IBlobStore>(), provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton<AzKv.Server.Api.WatchFanouts>();
        services.AddHostedService<NodeSupervisorService>();
        services.AddSingleton<AntiEntropyService>();
        services.AddHostedService(provider => provider.GetRequiredService<AntiEntropyService>());
        services.AddSingleton(_ => new PrometheusExporter([PartitionMetrics.MeterName, ServerMetrics.MeterName]));
    }

    private static IBlobStore CreateStore(StorageSettings storage)
    {
        if (!string.IsNullOrWhiteSpace(storage.ConnectionString))
        {
            try
            {
                return AzureBlobStores.FromConnectionString(storage.ConnectionString, storage.Container);
            }
            catch (ArgumentException ex)
            {
                throw new ConfigurationException([$"AzKv__Storage__ConnectionString is invalid: {ex.Message}"]);
            }
        }

        var credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            ManagedIdentityClientId = string.IsNullOrWhiteSpace(storage.ManagedIdentityClientId) ? null : storage.ManagedIdentityClientId,
        });
        return AzureBlobStores.FromAccountUrl(new Uri(storage.AccountUrl!), credential, storage.Container);
    }

    /// <summary>The transports to the other regions' storage (<c>AzKv__Peers__{i}__…</c>) and the consumers' pacing.</summary>
    private static ReplicationSetup CreateReplication(ServerOptions options)
    {
        var transports = new List<AzKv.Replication.IReplicationTransport>();
        var stores = new List<IBlobStore>();
        var own = OwnEventHubs(options);
        for (var i = 0; i < options.Peers.Count; i++)
        {
            var peer = options.Peers[i];
            IBlobStore store;
            if (!string.IsNullOrWhiteSpace(peer.ConnectionString))
            {
                try
                {
                    store = AzureBlobStores.FromConnectionString(peer.ConnectionString, peer.Container);
                }
                catch (ArgumentException ex)
                {
                    throw new ConfigurationException([$"AzKv__Peers__{i}__ConnectionString is invalid: {ex.Message}"]);
                }
            }
            else
            {
                var credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions
                {
                    ManagedIdentityClientId = string.IsNullOrWhiteSpace(options.Storage.ManagedIdentityClientId) ? null : options.Storage.ManagedIdentityClientId,
                });
                store = AzureBlobStores.FromAccountUrl(new Uri(peer.AccountUrl!), credential, peer.Container);
            }

            var blobTail = new AzKv.Replication.BlobTailTransport(peer.Region!, store);
            var peerHub = PeerEventHubs(options, peer, own);
            transports.Add(peerHub is null
                ? blobTail
                : new AzKv.Storage.AzureBlob.EventHubs.EventHubsTransport(
                    peer.Region!, options.Region!, peerHub, blobTail, TimeProvider.System));
            stores.Add(store);
        }

        var poll = TimeSpan.FromMilliseconds(options.Replication.PollMilliseconds);
        // Consumers sleep until the source monitor (one listing per source per poll) sees their
        // partition's segments grow; their own poll is only a safety net, so it can be slow.
        var pacing = new AzKv.Replication.ReplicationOptions { PollInterval = poll, MaxPollInterval = TimeSpan.FromSeconds(30), RetryInterval = TimeSpan.FromSeconds(1) };
        var sink = own is null ? null : new AzKv.Storage.AzureBlob.EventHubs.EventHubsLogSink(own, options.Region!);
        return new ReplicationSetup([.. transports], pacing, options.ConflictPolicies, [.. stores]) { Publisher = sink };
    }

    /// <summary>This region's Event Hubs namespace (<c>AzKv__EventHubs__…</c>), or null when replication tails blobs only.</summary>
    private static AzKv.Storage.AzureBlob.EventHubs.EventHubsEndpoint? OwnEventHubs(ServerOptions options)
    {
        var settings = options.EventHubs;
        if (!string.IsNullOrWhiteSpace(settings.ConnectionString))
        {
            return AzKv.Storage.AzureBlob.EventHubs.EventHubsEndpoint.FromConnectionString(settings.ConnectionString);
        }

        return string.IsNullOrWhiteSpace(settings.FullyQualifiedNamespace)
            ? null
            : AzKv.Storage.AzureBlob.EventHubs.EventHubsEndpoint.FromNamespace(settings.FullyQualifiedNamespace, NodeCredential(options));
    }

    /// <summary>A peer's namespace: its own setting, else this region's (one namespace for every region, as `azkv up` runs it).</summary>
    private static AzKv.Storage.AzureBlob.EventHubs.EventHubsEndpoint? PeerEventHubs(ServerOptions options, PeerSettings peer, AzKv.Storage.AzureBlob.EventHubs.EventHubsEndpoint? own)
    {
        if (!string.IsNullOrWhiteSpace(peer.EventHubsConnectionString))
        {
            return AzKv.Storage.AzureBlob.EventHubs.EventHubsEndpoint.FromConnectionString(peer.EventHubsConnectionString);
        }

        return string.IsNullOrWhiteSpace(peer.EventHubsNamespace)
            ? own
            : AzKv.Storage.AzureBlob.EventHubs.EventHubsEndpoint.FromNamespace(peer.EventHubsNamespace, NodeCredential(options));
    }

    private static DefaultAzureCredential NodeCredential(ServerOptions options) => new(new DefaultAzureCredentialOptions
    {
        ManagedIdentityClientId = string.IsNullOrWhiteSpace(options.Storage.ManagedIdentityClientId) ? null : options.Storage.ManagedIdentityClientId,
    });

    /// <summary>An exception escaped an endpoint: storage trouble is 503, anything else 500 — as problem+json, never a stack trace.</summary>
    private static async Task WriteUnexpectedErrorAsync(HttpContext context)
    {
        var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        await Problems.Unexpected(error).ExecuteAsync(context).ConfigureAwait(false);
    }

    private sealed class ConfigurationException : Exception
    {
        public ConfigurationException(IReadOnlyList<string> errors)
            : base(string.Join(Environment.NewLine, errors))
        {
            Errors = errors;
        }

        public IReadOnlyList<string> Errors { get; }
    }
}
