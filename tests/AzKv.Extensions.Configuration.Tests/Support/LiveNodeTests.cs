using AzKv.Client;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;
using Xunit.Abstractions;

namespace AzKv.Extensions.Configuration.Tests.Support;

/// <summary>
/// A test class against the class's own live node (<see cref="ServerFixture"/>): the node, a client
/// of it, the test output and a temporary folder for last-known-good caches. Derived classes add
/// <c>[Collection(AzuriteCollection.Name)]</c> and <c>IClassFixture&lt;ServerFixture&gt;</c>.
/// </summary>
public abstract class LiveNodeTests : IAsyncLifetime, IDisposable
{
    private readonly AzuriteFixture _azurite;
    private readonly ServerFixture _fixture;

    protected LiveNodeTests(AzuriteFixture azurite, ServerFixture fixture, ITestOutputHelper output)
    {
        _azurite = azurite;
        _fixture = fixture;
        Output = output;
    }

    /// <summary>The test output.</summary>
    protected ITestOutputHelper Output { get; }

    /// <summary>A folder of this test's own, deleted afterwards.</summary>
    protected TempDirectory CacheDirectory { get; } = new();

    /// <summary>The node.</summary>
    protected InProcessServer Server { get; private set; } = null!;

    /// <summary>A client of the node.</summary>
    protected AzKvClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await _fixture.GetAsync(_azurite);
        Client = new AzKvClient(Server.Url);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        DisposeTestResources();
        Client.Dispose();
        CacheDirectory.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes what the test created (configuration roots, hosts), before the client and the folder.</summary>
    protected abstract void DisposeTestResources();
}
