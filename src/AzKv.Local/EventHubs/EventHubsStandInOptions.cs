namespace AzKv.Local.EventHubs;

/// <summary>Settings of the local Event Hubs stand-in (<see cref="EventHubsStandIn"/>).</summary>
public sealed class EventHubsStandInOptions
{
    /// <summary>Loopback port to listen on; 0 picks a free one.</summary>
    public int Port { get; init; }

    /// <summary>
    /// How long an event stays readable. Like the service, retention is enforced lazily: expired
    /// events disappear from the head of a partition when it is next read or written. Default one
    /// day (the Standard tier's default is one hour to seven days).
    /// </summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(1);

    /// <summary>Largest message a producer may send (the Standard tier's 1 MB).</summary>
    public long MaxMessageSize { get; init; } = 1024 * 1024;

    /// <summary>Clock for enqueued times and retention (tests pass a fake one).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
