using AzKv.Testing.Azurite;
using AzKv.Testing.Server;

namespace AzKv.Client.Tests.Support;

/// <summary>
/// A test class against the class's own live node (<see cref="ServerFixture"/>) and a client of it.
/// Derived classes add <c>[Collection(AzuriteCollection.Name)]</c> and <c>IClassFixture&lt;ServerFixture&gt;</c>.
/// </summary>
public abstract class LiveNodeTests : IAsyncLifetime
{
    private readonly AzuriteFixture _azurite;
    private readonly ServerFixture _fixture;
    private readonly IEnumerable<string>? _serverArguments;

    /// <param name="azurite">The collection's Azurite.</param>
    /// <param name="fixture">The class's node.</param>
    /// <param name="serverArguments">Extra settings for the node, when the class needs some.</param>
    protected LiveNodeTests(AzuriteFixture azurite, ServerFixture fixture, IEnumerable<string>? serverArguments = null)
    {
        _azurite = azurite;
        _fixture = fixture;
        _serverArguments = serverArguments;
    }

    /// <summary>The node.</summary>
    protected InProcessServer Server { get; private set; } = null!;

    /// <summary>A client of the node.</summary>
    protected AzKvClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await _fixture.GetAsync(_azurite, _serverArguments);
        Client = new AzKvClient(Server.Url);
    }

    public Task DisposeAsync()
    {
        Client.Dispose();
        return Task.CompletedTask;
    }
}
