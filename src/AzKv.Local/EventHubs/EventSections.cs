using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;

namespace AzKv.Local.EventHubs;

/// <summary>
/// The parts of an event the stand-in keeps from a producer's message and gives back to receivers:
/// the body, the application properties, the standard properties the SDK maps, the producer's
/// message annotations (partition key).
/// </summary>
internal sealed record EventSections(
    byte[] Body,
    IReadOnlyList<KeyValuePair<string, object>> ApplicationProperties,
    IReadOnlyList<KeyValuePair<string, object>> MessageAnnotations,
    object? MessageId,
    object? CorrelationId,
    string? ContentType,
    string? Subject)
{
    /// <summary>The message format of the SDK's batched sends: every Data section is one encoded message.</summary>
    public const uint BatchMessageFormat = 0x80013700;

    /// <summary>The events a producer's delivery carries: one, or each of a batch.</summary>
    public static IReadOnlyList<EventSections> FromDelivery(AmqpMessage message)
    {
        if (message.MessageFormat == BatchMessageFormat)
        {
            var events = new List<EventSections>();
            foreach (var data in message.DataBody)
            {
                var encoded = (ArraySegment<byte>)data.Value;
                using var inner = AmqpMessage.CreateAmqpStreamMessage(new BufferListStream([encoded]));
                events.Add(FromMessage(inner));
            }

            return events;
        }

        return [FromMessage(message)];
    }

    /// <summary>Builds the message a receiver gets for a stored event, with the broker's annotations.</summary>
    public static AmqpMessage ToMessage(StoredEvent stored)
    {
        var e = stored.Event;
        var message = AmqpMessage.Create(new Data { Value = new ArraySegment<byte>(e.Body) });
        foreach (var (key, value) in e.MessageAnnotations)
        {
            message.MessageAnnotations.Map[key] = value;
        }

        message.MessageAnnotations.Map[EventHubsStandIn.SequenceNumberAnnotation] = stored.SequenceNumber;
        message.MessageAnnotations.Map[EventHubsStandIn.OffsetAnnotation] = stored.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture);
        message.MessageAnnotations.Map[EventHubsStandIn.EnqueuedTimeAnnotation] = stored.EnqueuedTime.UtcDateTime;
        foreach (var (key, value) in e.ApplicationProperties)
        {
            message.ApplicationProperties.Map[key] = value;
        }

        if (e.MessageId is not null || e.CorrelationId is not null || e.ContentType is not null || e.Subject is not null)
        {
            message.Properties.MessageId = e.MessageId is null ? null : MessageIdOf(e.MessageId);
            message.Properties.CorrelationId = e.CorrelationId is null ? null : MessageIdOf(e.CorrelationId);
            message.Properties.ContentType = e.ContentType;
            message.Properties.Subject = e.Subject;
        }

        return message;
    }

    private static EventSections FromMessage(AmqpMessage message)
    {
        var sections = message.Sections;
        byte[] body = [];
        if ((sections & SectionFlag.Data) != 0)
        {
            using var stream = new MemoryStream();
            foreach (var data in message.DataBody)
            {
                var segment = (ArraySegment<byte>)data.Value;
                stream.Write(segment.AsSpan());
            }

            body = stream.ToArray();
        }

        var applicationProperties = (sections & SectionFlag.ApplicationProperties) != 0
            ? message.ApplicationProperties.Map.Select(p => new KeyValuePair<string, object>(p.Key.ToString()!, p.Value)).ToList()
            : [];
        var annotations = (sections & SectionFlag.MessageAnnotations) != 0
            ? message.MessageAnnotations.Map.Select(p => new KeyValuePair<string, object>(p.Key.ToString()!, p.Value)).ToList()
            : [];
        var properties = (sections & SectionFlag.Properties) != 0 ? message.Properties : null;
        return new EventSections(
            body,
            applicationProperties,
            annotations,
            properties?.MessageId?.ToString(),
            properties?.CorrelationId?.ToString(),
            properties?.ContentType.Value,
            properties?.Subject);
    }

    private static MessageId MessageIdOf(object value) => (MessageId)(string)value;
}
