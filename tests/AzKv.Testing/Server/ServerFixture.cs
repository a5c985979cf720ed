using AzKv.Testing.Azurite;
using Xunit;

namespace AzKv.Testing.Server;

/// <summary>
/// One node per test class (a class fixture), in a container of its own, started on first use
/// with the collection's Azurite and stopped when the class is done.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private InProcessServer? _server;

    /// <summary>The running node; starts it on the first call.</summary>
    public async Task<InProcessServer> GetAsync(AzuriteFixture azurite, IEnumerable<string>? extraArguments = null)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            return _server ??= await InProcessServer.StartAsync(
                azurite.ConnectionString,
                InProcessServer.NewContainer(),
                extraArguments: extraArguments).ConfigureAwait(false);
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
            await _server.DisposeAsync().ConfigureAwait(false);
        }

        _gate.Dispose();
    }
}
