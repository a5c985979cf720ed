using AzKv.Local;
using AzKv.Storage;
using AzKv.Storage.AzureBlob;
using Xunit;

namespace AzKv.Testing.Azurite;

/// <summary>
/// Plays Testcontainers' role for Azurite: installs it from infra/azurite (npm ci) when
/// missing, starts it in memory on a free loopback port, and stops it when the tests end.
/// Share it with a collection fixture; give every test its own container.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private AzuriteProcess? _process;

    /// <summary>The running emulator.</summary>
    public AzuriteProcess Process => _process ?? throw new InvalidOperationException("Azurite has not been started.");

    /// <summary>Shared Key connection string of the development account.</summary>
    public string ConnectionString => Process.GetConnectionString();

    /// <summary>A blob store over <paramref name="containerName"/> (not created).</summary>
    public IBlobStore CreateStore(string containerName) => AzureBlobStores.FromConnectionString(ConnectionString, containerName);

    /// <summary>A created container with a fresh unique name.</summary>
    public async Task<IBlobStore> CreateContainerAsync(CancellationToken cancellationToken = default)
    {
        var store = CreateStore("t" + Guid.NewGuid().ToString("N")[..20]);
        await store.CreateContainerIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        return store;
    }

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        _process = await AzuriteProcess.StartAsync(new AzuriteOptions(), timeout.Token).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync().ConfigureAwait(false);
        }
    }
}
