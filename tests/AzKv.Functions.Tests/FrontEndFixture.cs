using System.Diagnostics;
using AzKv.Functions.Api;
using AzKv.Server;
using AzKv.Server.Api;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AzKv.Functions.Tests;

/// <summary>
/// An owner node (Kestrel, in process) on Azurite, and in front of it the Functions app's services as
/// Program.cs registers them (<see cref="ServerApp.AddAzKvFrontEnd"/>) in a generic host: everything
/// the worker runs but the Functions host and its HTTP proxy. Started on first use, once per class.
/// </summary>
public sealed class FrontEndFixture : IAsyncLifetime
{
    private static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(60);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private InProcessServer? _owner;
    private IHost? _frontEnd;

    /// <summary>The owner node.</summary>
    public InProcessServer Owner => _owner ?? throw new InvalidOperationException("Not started.");

    /// <summary>The front end's services.</summary>
    public IServiceProvider Services => _frontEnd?.Services ?? throw new InvalidOperationException("Not started.");

    public KvFunctions Kv => ActivatorUtilities.CreateInstance<KvFunctions>(Services);

    public WatchFunctions Watch => ActivatorUtilities.CreateInstance<WatchFunctions>(Services);

    public SnapshotFunctions Snapshots => ActivatorUtilities.CreateInstance<SnapshotFunctions>(Services);

    public ClusterFunctions Cluster => ActivatorUtilities.CreateInstance<ClusterFunctions>(Services);

    public ConsoleFunctions Console => ActivatorUtilities.CreateInstance<ConsoleFunctions>(Services);

    /// <summary>Starts the owner and the front end (once), and waits until the front end sees the owner serve every partition.</summary>
    public async Task StartAsync(AzuriteFixture azurite)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_frontEnd is not null)
            {
                return;
            }

            _owner = await InProcessServer.StartAsync(azurite.ConnectionString, InProcessServer.NewContainer(), nodeId: "owner-1").ConfigureAwait(false);
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["AzKv:Region"] = "local",
                ["AzKv:NodeId"] = "functions-1",
                ["AzKv:Membership:HeartbeatMilliseconds"] = "250",
                ["AzKv:Storage:ConnectionString"] = azurite.ConnectionString,
                ["AzKv:Storage:Container"] = _owner.Container,
                ["AzKv:Cluster:PartitionCount"] = "4",
            });
            builder.Services.AddAzKvFrontEnd(builder.Configuration);
            _frontEnd = builder.Build();
            await _frontEnd.StartAsync().ConfigureAwait(false);
            await WaitUntilServedAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_frontEnd is not null)
        {
            await _frontEnd.StopAsync().ConfigureAwait(false);
            _frontEnd.Dispose();
        }

        if (_owner is not null)
        {
            await _owner.DisposeAsync().ConfigureAwait(false);
        }

        _gate.Dispose();
    }

    /// <summary>Ready (it has joined and sees the ring) and every partition answered by the owner through the front end.</summary>
    private async Task WaitUntilServedAsync()
    {
        var clock = Stopwatch.StartNew();
        var last = "no answer";
        while (clock.Elapsed < ReadyDeadline)
        {
            var ready = FunctionRequest.Create("GET", "/readyz");
            await Cluster.ReadyAsync(ready.Request);
            if (ready.Response.StatusCode == StatusCodes.Status200OK)
            {
                var cluster = FunctionRequest.Create("GET", "/v1/cluster");
                await Cluster.ClusterAsync(cluster.Request);
                last = cluster.ReadBody();
                if (cluster.Response.StatusCode == StatusCodes.Status200OK && !last.Contains("\"serving\":false", StringComparison.Ordinal))
                {
                    return;
                }
            }
            else
            {
                last = ready.ReadBody();
            }

            await Task.Delay(100).ConfigureAwait(false);
        }

        throw new TimeoutException($"The front end did not see the owner serve every partition within {ReadyDeadline.TotalSeconds} s; last answer: {last}");
    }
}
