using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;
using Microsoft.Azure.Amqp.Sasl;
using Microsoft.Azure.Amqp.Transport;

namespace AzKv.Local.EventHubs;

/// <summary>
/// A small Event Hubs service on loopback that the real Azure.Messaging.EventHubs SDK talks to, like
/// Azurite stands in for Storage: plain AMQP 1.0 (connection strings carry
/// <c>UseDevelopmentEmulator=true</c>), SASL <c>MSSBCBS</c>/<c>ANONYMOUS</c>, a <c>$cbs</c> node that accepts
/// any put-token, a <c>$management</c> node answering READ for hubs and partitions, producer links on
/// <c>/{hub}</c> and <c>/{hub}/Partitions/{id}</c> (single and batched messages), receiver links on
/// <c>/{hub}/ConsumerGroups/{group}/Partitions/{id}</c> with the SDK's selector filters and owner levels.
/// Sequence numbers start at 0 per partition; offsets are opaque strings; retention drops old events.
/// Dev-only: no authentication, no TLS, state in memory.
/// </summary>
/// <remarks>Test hooks: <see cref="Truncate"/>, <see cref="DropConnections"/>, <see cref="Delay"/>, <see cref="DeleteHub"/>.</remarks>
public sealed class EventHubsStandIn : IAsyncDisposable
{
    /// <summary>The consumer group every hub has.</summary>
    public const string DefaultConsumerGroup = "$Default";

    /// <summary>The shared access key name the development connection strings carry (not checked).</summary>
    public const string DevelopmentKeyName = "RootManageSharedAccessKey";

    /// <summary>A placeholder key (the stand-in checks no token; public by design, opens nothing else).</summary>
    public const string DevelopmentKey = "U0FTX0tFWV9WQUxVRQ==";

    internal const string SequenceNumberAnnotation = "x-opt-sequence-number";
    internal const string OffsetAnnotation = "x-opt-offset";
    internal const string EnqueuedTimeAnnotation = "x-opt-enqueued-time";
    internal const string PartitionKeyAnnotation = "x-opt-partition-key";
    private const string OwnerLevelProperty = "com.microsoft:epoch";
    private const string SelectorFilterName = "apache.org:selector-filter:string";

    private readonly EventHubsStandInOptions _options;
    private readonly ConcurrentDictionary<string, StandInHub> _hubs = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<AmqpConnection, byte> _connections = new();
    private readonly ConcurrentDictionary<string, ImmutableList<Receiver>> _receivers = new(StringComparer.OrdinalIgnoreCase);
    private readonly RuntimeProvider _runtime;
    private readonly AmqpTransportListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private int _roundRobin;
    private int _disposed;

    private EventHubsStandIn(EventHubsStandInOptions options, int port)
    {
        _options = options;
        Port = port;
        _runtime = new RuntimeProvider(this);
        var settings = new AmqpSettings { RuntimeProvider = _runtime };
        var sasl = new SaslTransportProvider();
        sasl.Versions.Add(new AmqpVersion(1, 0, 0));
        sasl.AddHandler(new SaslAnonymousHandler("MSSBCBS"));
        sasl.AddHandler(new SaslAnonymousHandler());
        settings.TransportProviders.Add(sasl);
        var amqp = new AmqpTransportProvider();
        amqp.Versions.Add(new AmqpVersion(1, 0, 0));
        settings.TransportProviders.Add(amqp);
        var tcp = new TcpTransportSettings { Host = IPAddress.Loopback.ToString(), Port = port };
        _listener = new AmqpTransportListener([tcp.CreateListener()], settings);
    }

    /// <summary>The port the stand-in listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>The namespace host name clients use (<c>127.0.0.1:port</c>).</summary>
    public string FullyQualifiedNamespace => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    /// <summary>
    /// Added before the stand-in acknowledges a producer's message and before it hands an event to a
    /// receiver: a test hook for a slow service. Zero by default.
    /// </summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Starts listening on 127.0.0.1.</summary>
    public static EventHubsStandIn Start(EventHubsStandInOptions? options = null)
    {
        options ??= new EventHubsStandInOptions();
        var port = options.Port == 0 ? FreePort() : options.Port;
        var standIn = new EventHubsStandIn(options, port);
        standIn._listener.Listen(standIn.OnAcceptTransport);
        return standIn;
    }

    /// <summary>A connection string for the namespace (no entity path), with <c>UseDevelopmentEmulator=true</c>.</summary>
    public string GetConnectionString() =>
        string.Create(CultureInfo.InvariantCulture, $"Endpoint=sb://127.0.0.1:{Port};SharedAccessKeyName={DevelopmentKeyName};SharedAccessKey={DevelopmentKey};UseDevelopmentEmulator=true");

    /// <summary>A connection string for one hub.</summary>
    public string GetConnectionString(string hub) => GetConnectionString() + ";EntityPath=" + hub;

    /// <summary>Creates a hub, or returns silently when one with this name exists (its settings are kept).</summary>
    public void CreateHub(string name, int partitionCount, IEnumerable<string>? consumerGroups = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        _hubs.GetOrAdd(name, n => new StandInHub(n, partitionCount, consumerGroups ?? [], _options));
    }

    /// <summary>Deletes a hub and closes its links (recreating it starts its sequence numbers at 0 again).</summary>
    public bool DeleteHub(string name)
    {
        if (!_hubs.TryRemove(name, out _))
        {
            return false;
        }

        foreach (var (key, receivers) in _receivers)
        {
            if (key.StartsWith(name + "/", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var r in receivers)
                {
                    r.Link.SafeClose(new AmqpException(AmqpErrorCode.NotFound, NotFoundText(name)));
                }
            }
        }

        return true;
    }

    /// <summary>Test hook: drops the events of a partition below a sequence number, as retention would.</summary>
    public void Truncate(string hub, string partitionId, long beforeSequenceNumber) =>
        GetPartition(hub, partitionId).TruncateBefore(beforeSequenceNumber);

    /// <summary>Test hook: closes every client connection (the SDK reconnects).</summary>
    public int DropConnections()
    {
        var dropped = 0;
        foreach (var connection in _connections.Keys)
        {
            connection.SafeClose(new AmqpException(AmqpErrorCode.ConnectionForced, "Connection dropped by a test hook."));
            dropped++;
        }

        return dropped;
    }

    /// <summary>The sequence number the next event of a partition gets minus one, and the first retained one.</summary>
    public (long BeginSequenceNumber, long LastSequenceNumber) GetPartitionRange(string hub, string partitionId)
    {
        var d = GetPartition(hub, partitionId).Describe();
        return (d.BeginSequenceNumber, d.LastSequenceNumber);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return ValueTask.CompletedTask;
        }

        _stopping.Cancel();
        _listener.Close();
        foreach (var connection in _connections.Keys)
        {
            connection.SafeClose();
        }

        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }

    private StandInPartition GetPartition(string hub, string partitionId) =>
        (_hubs.TryGetValue(hub, out var h) ? h.FindPartition(partitionId) : null)
        ?? throw new ArgumentException($"No partition '{partitionId}' in hub '{hub}'.", nameof(partitionId));

    private string NotFoundText(string entity) =>
        $"The messaging entity 'sb://{FullyQualifiedNamespace}/{entity}' could not be found. status-code: 404";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void OnAcceptTransport(TransportListener listener, TransportAsyncCallbackArgs args)
    {
        AmqpConnection? connection = null;
        try
        {
            var connectionSettings = new AmqpConnectionSettings
            {
                ContainerId = "azkv-eventhubs-standin",
                MaxFrameSize = 64 * 1024,
                IdleTimeOut = 240_000,
            };
            connection = new AmqpConnection(args.Transport, (ProtocolHeader)args.UserToken, false, _listener.AmqpSettings, connectionSettings);
            var opened = connection;
            connection.Closed += (_, _) => _connections.TryRemove(opened, out _);
            _connections[connection] = 0;
            connection.BeginOpen(AmqpConstants.DefaultTimeout, OnConnectionOpened, connection);
        }
        catch (Exception ex) when (ex is AmqpException or IOException or InvalidOperationException or ObjectDisposedException)
        {
            if (connection is null)
            {
                args.Transport.Abort();
            }
            else
            {
                connection.SafeClose(ex);
            }
        }
    }

    private static void OnConnectionOpened(IAsyncResult result)
    {
        var connection = (AmqpConnection)result.AsyncState!;
        try
        {
            connection.EndOpen(result);
        }
        catch (Exception ex) when (ex is AmqpException or IOException or TimeoutException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            connection.SafeClose(ex);
        }
    }

    /// <summary>Attaches a link the client opened, or throws an <see cref="AmqpException"/> that refuses it.</summary>
    private void OnAttach(AmqpLink link)
    {
        var address = (link.IsReceiver ? ((Target)link.Settings.Target).Address : ((Source)link.Settings.Source).Address)?.ToString()
            ?? throw new AmqpException(AmqpErrorCode.InvalidField, "Address not set.");
        var path = address;
        if (Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps" or "sb")
        {
            path = uri.AbsolutePath;
        }

        var parts = path.Trim('/').Split('/');
        if (parts.Length == 1 && parts[0] is "$cbs" or "$management")
        {
            RequestNode.Attach(link, parts[0] == "$cbs" ? HandleCbs : HandleManagement);
            return;
        }

        if (!_hubs.TryGetValue(parts[0], out var hub))
        {
            throw new AmqpException(AmqpErrorCode.NotFound, NotFoundText(parts[0]));
        }

        if (link.IsReceiver)
        {
            // A producer: /hub (the service picks a partition) or /hub/Partitions/{id}.
            StandInPartition? target = null;
            if (parts.Length == 3 && parts[1].Equals("Partitions", StringComparison.OrdinalIgnoreCase))
            {
                target = hub.FindPartition(parts[2]) ?? throw new AmqpException(AmqpErrorCode.NotFound, NotFoundText(path.Trim('/')));
            }
            else if (parts.Length != 1)
            {
                throw new AmqpException(AmqpErrorCode.NotFound, NotFoundText(path.Trim('/')));
            }

            AttachProducer((ReceivingAmqpLink)link, hub, target);
            return;
        }

        if (parts.Length != 5 || !parts[1].Equals("ConsumerGroups", StringComparison.OrdinalIgnoreCase) || !parts[3].Equals("Partitions", StringComparison.OrdinalIgnoreCase))
        {
            throw new AmqpException(AmqpErrorCode.NotFound, NotFoundText(path.Trim('/')));
        }

        if (!hub.ConsumerGroups.Contains(parts[2]))
        {
            throw new AmqpException(AmqpErrorCode.NotFound, NotFoundText($"{hub.Name}/ConsumerGroups/{parts[2]}"));
        }

        var partition = hub.FindPartition(parts[4]) ?? throw new AmqpException(AmqpErrorCode.NotFound, NotFoundText(path.Trim('/')));
        AttachReceiver((SendingAmqpLink)link, hub, parts[2], partition);
    }

    private void AttachProducer(ReceivingAmqpLink link, StandInHub hub, StandInPartition? target)
    {
        link.RegisterMessageListener(message => _ = OnProducerMessageAsync(link, hub, target, message));
        link.SetTotalLinkCredit(100, applyNow: true, updateAutoFlow: true);
    }

    private async Task OnProducerMessageAsync(ReceivingAmqpLink link, StandInHub hub, StandInPartition? target, AmqpMessage message)
    {
        try
        {
            IReadOnlyList<EventSections> events;
            try
            {
                events = EventSections.FromDelivery(message);
            }
            catch (Exception ex) when (ex is AmqpException or InvalidOperationException or InvalidCastException)
            {
                link.RejectMessage(message, new AmqpException(AmqpErrorCode.DecodeError, "The message could not be decoded: " + ex.Message));
                return;
            }

            var delay = Delay;
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, _stopping.Token).ConfigureAwait(false);
            }

            var partition = target ?? PickPartition(hub, events);
            partition.Append(events);
            link.AcceptMessage(message, settled: true, batchable: false);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            message.Dispose();
        }
    }

    /// <summary>Without a partition in the address: the same partition for the same partition key, else round robin.</summary>
    private StandInPartition PickPartition(StandInHub hub, IReadOnlyList<EventSections> events)
    {
        var key = events.Count > 0
            ? events[0].MessageAnnotations.FirstOrDefault(a => a.Key == PartitionKeyAnnotation).Value as string
            : null;
        var index = key is null
            ? (int)((uint)Interlocked.Increment(ref _roundRobin) % (uint)hub.Partitions.Length)
            : (int)(StableHash(key) % (uint)hub.Partitions.Length);
        return hub.Partitions[index];
    }

    private static uint StableHash(string value)
    {
        var hash = 2166136261u;
        foreach (var c in value)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
    }

    private void AttachReceiver(SendingAmqpLink link, StandInHub hub, string consumerGroup, StandInPartition partition)
    {
        var source = (Source)link.Settings.Source;
        string? expression = null;
        if (source.FilterSet is { } filters)
        {
            foreach (var filter in filters)
            {
                if (filter.Value is DescribedType described && described.Descriptor?.ToString() is SelectorFilterName or "77567109365770")
                {
                    expression = described.Value as string;
                }
                else if (filter.Key.ToString() == SelectorFilterName && filter.Value is DescribedType other)
                {
                    expression = other.Value as string;
                }
            }
        }

        SelectorFilter start;
        try
        {
            start = SelectorFilter.Parse(expression);
        }
        catch (FormatException ex)
        {
            throw new AmqpException(new Error { Condition = "com.microsoft:argument-error", Description = ex.Message });
        }

        long? ownerLevel = link.Settings.Properties is { } properties && properties.TryGetValue<long>(OwnerLevelProperty, out var level) ? level : null;
        var key = $"{hub.Name}/{consumerGroup}/{partition.Id}";
        var receiver = new Receiver(this, link, partition, partition.Resolve(start), ownerLevel);
        List<Receiver> stolen = [];
        while (true)
        {
            var current = _receivers.GetOrAdd(key, ImmutableList<Receiver>.Empty);
            var highest = current.Where(r => r.OwnerLevel is not null).Select(r => r.OwnerLevel!.Value).DefaultIfEmpty(long.MinValue).Max();
            if (ownerLevel is null && current.Any(r => r.OwnerLevel is not null))
            {
                throw new AmqpException(AmqpErrorCode.Stolen, $"An owner-level receiver (owner level {highest}) holds partition {partition.Id} of '{hub.Name}' for consumer group '{consumerGroup}'.");
            }

            if (ownerLevel is not null && highest != long.MinValue && ownerLevel.Value < highest)
            {
                throw new AmqpException(AmqpErrorCode.Stolen, $"A receiver with a higher owner level ({highest}) holds partition {partition.Id} of '{hub.Name}' for consumer group '{consumerGroup}'.");
            }

            var survivors = ownerLevel is null ? current : current.Where(r => r.OwnerLevel is null || r.OwnerLevel > ownerLevel.Value).ToImmutableList();
            stolen = ownerLevel is null ? [] : current.Where(r => !survivors.Contains(r)).ToList();
            if (_receivers.TryUpdate(key, survivors.Add(receiver), current))
            {
                break;
            }
        }

        foreach (var old in stolen)
        {
            old.Link.SafeClose(new AmqpException(
                AmqpErrorCode.Stolen,
                $"Receiver disconnected: a receiver with owner level {ownerLevel} took partition {partition.Id} of '{hub.Name}' for consumer group '{consumerGroup}'."));
        }

        link.Closed += (_, _) =>
        {
            receiver.Stop();
            while (_receivers.TryGetValue(key, out var list) && list.Contains(receiver) && !_receivers.TryUpdate(key, list.Remove(receiver), list))
            {
            }
        };
        receiver.Start(_stopping.Token);
    }

    private Task<AmqpMessage> HandleCbs(AmqpMessage request)
    {
        // Any token is accepted: the stand-in is a development emulator without authorization.
        var operation = request.ApplicationProperties?.Map["operation"] as string;
        return Task.FromResult(operation == "put-token"
            ? RequestNode.Response(202, "Accepted", null)
            : RequestNode.Response(400, $"Unknown $cbs operation '{operation}'.", null));
    }

    private Task<AmqpMessage> HandleManagement(AmqpMessage request)
    {
        var map = request.ApplicationProperties?.Map;
        var operation = map?["operation"] as string;
        var type = map?["type"] as string;
        var name = map?["name"] as string;
        if (operation != "READ")
        {
            return Task.FromResult(RequestNode.Response(400, $"Unknown $management operation '{operation}'.", null));
        }

        if (name is null || !_hubs.TryGetValue(name, out var hub))
        {
            return Task.FromResult(RequestNode.Response(404, NotFoundText(name ?? "(none)"), null));
        }

        var body = new AmqpMap();
        switch (type)
        {
            case "com.microsoft:eventhub":
                body[new MapKey("name")] = hub.Name;
                body[new MapKey("created_at")] = hub.CreatedAt.UtcDateTime;
                body[new MapKey("partition_ids")] = hub.Partitions.Select(p => p.Id).ToArray();
                break;
            case "com.microsoft:partition":
                var partition = map?["partition"] is string id ? hub.FindPartition(id) : null;
                if (partition is null)
                {
                    return Task.FromResult(RequestNode.Response(404, NotFoundText($"{name}/Partitions/{map?["partition"]}"), null));
                }

                var d = partition.Describe();
                body[new MapKey("name")] = hub.Name;
                body[new MapKey("partition")] = partition.Id;
                body[new MapKey("begin_sequence_number")] = d.BeginSequenceNumber;
                body[new MapKey("last_enqueued_sequence_number")] = d.LastSequenceNumber;
                body[new MapKey("last_enqueued_offset")] = d.LastOffset.ToString(CultureInfo.InvariantCulture);
                body[new MapKey("last_enqueued_time_utc")] = d.LastEnqueuedTime.UtcDateTime;
                body[new MapKey("runtime_info_retrieval_time_utc")] = _options.TimeProvider.GetUtcNow().UtcDateTime;
                body[new MapKey("is_partition_empty")] = d.IsEmpty;
                break;
            default:
                return Task.FromResult(RequestNode.Response(400, $"Unknown resource type '{type}'.", null));
        }

        return Task.FromResult(RequestNode.Response(200, "OK", body));
    }

    /// <summary>Pushes a partition's events to one receiver link as the client grants credit.</summary>
    private sealed class Receiver
    {
        private readonly EventHubsStandIn _owner;
        private readonly StandInPartition _partition;
        private readonly CancellationTokenSource _stop = new();
        private readonly SemaphoreSlim _wake = new(0);
        private long _next;
        private int _credit;
        private int _tag;

        public Receiver(EventHubsStandIn owner, SendingAmqpLink link, StandInPartition partition, long next, long? ownerLevel)
        {
            _owner = owner;
            Link = link;
            _partition = partition;
            _next = next;
            OwnerLevel = ownerLevel;
            link.RegisterCreditListener((credit, _, _) =>
            {
                Interlocked.Add(ref _credit, (int)credit);
                _wake.Release();
            });
            link.RegisterDispositionListener(delivery =>
            {
                if (!delivery.Settled)
                {
                    link.DisposeDelivery(delivery, true, delivery.State);
                }
            });
        }

        public SendingAmqpLink Link { get; }

        public long? OwnerLevel { get; }

        public void Start(CancellationToken stopping)
        {
            var token = CancellationTokenSource.CreateLinkedTokenSource(stopping, _stop.Token).Token;
            _ = Task.Run(() => PumpAsync(token), CancellationToken.None);
        }

        public void Stop() => _stop.Cancel();

        private async Task PumpAsync(CancellationToken cancellationToken)
        {
            try
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    var changed = _partition.WaitForChangeAsync(cancellationToken);
                    var credit = Volatile.Read(ref _credit);
                    var events = credit > 0 ? _partition.Read(_next, credit) : [];
                    if (events.Count == 0)
                    {
                        await Task.WhenAny(changed, _wake.WaitAsync(cancellationToken)).ConfigureAwait(false);
                        cancellationToken.ThrowIfCancellationRequested();
                        continue;
                    }

                    var delay = _owner.Delay;
                    if (delay > TimeSpan.Zero)
                    {
                        await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                    }

                    foreach (var stored in events)
                    {
                        var message = EventSections.ToMessage(stored);
                        Link.SendMessageNoWait(message, BitConverter.GetBytes(Interlocked.Increment(ref _tag)), AmqpConstants.NullBinary);
                        Interlocked.Decrement(ref _credit);
                        _next = stored.SequenceNumber + 1;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception ex) when (ex is AmqpException or InvalidOperationException or ObjectDisposedException)
            {
                Link.SafeClose(ex);
            }
        }
    }

    /// <summary>The AMQP runtime hooks: the connection opens sessions itself; links are attached by the stand-in.</summary>
    private sealed class RuntimeProvider(EventHubsStandIn owner) : IRuntimeProvider
    {
        public AmqpConnection CreateConnection(TransportBase transport, ProtocolHeader protocolHeader, bool isInitiator, AmqpSettings amqpSettings, AmqpConnectionSettings connectionSettings) =>
            new(transport, protocolHeader, isInitiator, amqpSettings, connectionSettings);

        public AmqpSession CreateSession(AmqpConnection connection, AmqpSessionSettings settings) =>
            throw new InvalidOperationException("Sessions are created by the connection.");

        public AmqpLink CreateLink(AmqpSession session, AmqpLinkSettings settings)
        {
            if (settings.Role == true)
            {
                settings.MaxMessageSize = (ulong)owner._options.MaxMessageSize;
                return new ReceivingAmqpLink(session, settings);
            }

            return new SendingAmqpLink(session, settings);
        }

        public IAsyncResult BeginOpenLink(AmqpLink link, TimeSpan timeout, AsyncCallback callback, object state)
        {
            owner.OnAttach(link);
            var result = new CompletedResult(state);
            callback(result);
            return result;
        }

        public void EndOpenLink(IAsyncResult result)
        {
        }
    }

    private sealed class CompletedResult(object? state) : IAsyncResult
    {
        public object? AsyncState => state;

        public WaitHandle AsyncWaitHandle => throw new NotSupportedException();

        public bool CompletedSynchronously => true;

        public bool IsCompleted => true;
    }
}
