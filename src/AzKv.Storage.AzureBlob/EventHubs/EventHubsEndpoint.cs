using Azure.Core;
using Azure.Messaging.EventHubs;

namespace AzKv.Storage.AzureBlob.EventHubs;

/// <summary>
/// How to reach an Event Hubs namespace: a fully qualified namespace with a <see cref="TokenCredential"/>
/// (Entra ID, production), or a connection string (Shared Access Signature, or the local stand-in
/// with <c>UseDevelopmentEmulator=true</c>). Hubs are named <c>azkv-&lt;region&gt;</c>.
/// </summary>
public sealed class EventHubsEndpoint
{
    private readonly string? _connectionString;
    private readonly string? _namespace;
    private readonly TokenCredential? _credential;

    private EventHubsEndpoint(string? connectionString, string? fullyQualifiedNamespace, TokenCredential? credential)
    {
        _connectionString = connectionString;
        _namespace = fullyQualifiedNamespace;
        _credential = credential;
    }

    /// <summary>The namespace host (for messages and status).</summary>
    public string Namespace => _namespace ?? EventHubsConnectionStringProperties.Parse(_connectionString!).FullyQualifiedNamespace;

    /// <summary>From a connection string; throws <see cref="FormatException"/> when it cannot be parsed or names a hub.</summary>
    public static EventHubsEndpoint FromConnectionString(string connectionString)
    {
        var properties = EventHubsConnectionStringProperties.Parse(connectionString);
        if (!string.IsNullOrEmpty(properties.EventHubName))
        {
            throw new FormatException("the connection string must be the namespace's (without EntityPath): each region's hub is named azkv-<region>.");
        }

        return new EventHubsEndpoint(connectionString, null, null);
    }

    /// <summary>From a namespace host name (e.g. <c>ns.servicebus.windows.net</c>) and a credential.</summary>
    public static EventHubsEndpoint FromNamespace(string fullyQualifiedNamespace, TokenCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        if (Uri.CheckHostName(fullyQualifiedNamespace) is not (UriHostNameType.Dns or UriHostNameType.IPv4))
        {
            throw new FormatException($"'{fullyQualifiedNamespace}' is not a host name (expected e.g. mynamespace.servicebus.windows.net).");
        }

        return new EventHubsEndpoint(null, fullyQualifiedNamespace, credential);
    }

    /// <summary>The hub a region publishes to.</summary>
    public static string HubName(string region) => "azkv-" + region;

    /// <summary>A connection to a hub, with retries short enough that a failing hub falls back to the blob tail quickly.</summary>
    public EventHubConnection Connect(string hubName) =>
        _connectionString is not null
            ? new EventHubConnection(_connectionString, hubName, ConnectionOptions)
            : new EventHubConnection(_namespace!, hubName, _credential!, ConnectionOptions);

    /// <summary>Retries of one operation: a few quick ones, then the caller decides (fall back, retry the round).</summary>
    public static EventHubsRetryOptions RetryOptions { get; } = new()
    {
        MaximumRetries = 2,
        Delay = TimeSpan.FromMilliseconds(200),
        MaximumDelay = TimeSpan.FromSeconds(2),
        TryTimeout = TimeSpan.FromSeconds(10),
    };

    private static EventHubConnectionOptions ConnectionOptions => new();
}
