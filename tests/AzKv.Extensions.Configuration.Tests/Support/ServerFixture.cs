using AzKv.Testing.Server;
using AzKv.Testing.Azurite;

namespace AzKv.Extensions.Configuration.Tests.Support;

/// <summary>One node per test class (a class fixture) in a container of its own, started on first use.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private InProcessServer? _server;

    /// <summary>The running node; starts it on the first call.</summary>
    public async Task<InProcessServer> GetAsync(AzuriteFixture azurite)
    {
        await _gate.WaitAsync();
        try
        {
            return _server ??= await InProcessServer.StartAsync(azurite.ConnectionString, InProcessServer.NewContainer());
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public Task InitializeAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _gate.Dispose();
    }
}
