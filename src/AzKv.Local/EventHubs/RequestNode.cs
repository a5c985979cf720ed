using System.Collections.Concurrent;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;

namespace AzKv.Local.EventHubs;

/// <summary>
/// A request/response node (<c>$cbs</c>, <c>$management</c>): the client attaches a sender and a
/// receiver on the node's address; a request names its reply-to (the receiver's target) and the
/// response carries the request's message id as correlation id and <c>status-code</c>/<c>status-description</c>.
/// </summary>
internal static class RequestNode
{
    private static readonly ConcurrentDictionary<string, SendingAmqpLink> ReplyLinks = new(StringComparer.Ordinal);

    public static void Attach(AmqpLink link, Func<AmqpMessage, Task<AmqpMessage>> handler)
    {
        if (link is ReceivingAmqpLink requests)
        {
            requests.RegisterMessageListener(message => _ = HandleAsync(requests, message, handler));
            requests.SetTotalLinkCredit(100, applyNow: true, updateAutoFlow: true);
            return;
        }

        var replies = (SendingAmqpLink)link;
        var replyTo = ((Target)replies.Settings.Target).Address?.ToString()
            ?? throw new AmqpException(AmqpErrorCode.InvalidField, "A response link needs a target address (the requests' reply-to).");
        ReplyLinks[replyTo] = replies;
        replies.Closed += (_, _) => ReplyLinks.TryRemove(new KeyValuePair<string, SendingAmqpLink>(replyTo, replies));
    }

    public static AmqpMessage Response(int statusCode, string description, AmqpMap? body)
    {
        var response = body is null ? AmqpMessage.Create() : AmqpMessage.Create(new AmqpValue { Value = body });
        response.ApplicationProperties.Map["status-code"] = statusCode;
        response.ApplicationProperties.Map["status-description"] = description;
        return response;
    }

    private static async Task HandleAsync(ReceivingAmqpLink requests, AmqpMessage request, Func<AmqpMessage, Task<AmqpMessage>> handler)
    {
        using (request)
        {
            requests.AcceptMessage(request, settled: true, batchable: false);
            var replyTo = request.Properties?.ReplyTo?.ToString();
            if (replyTo is null || !ReplyLinks.TryGetValue(replyTo, out var replies))
            {
                return;
            }

            var response = await handler(request).ConfigureAwait(false);
            response.Properties.CorrelationId = request.Properties!.MessageId;
            replies.SendMessageNoWait(response, BitConverter.GetBytes(Environment.TickCount64), AmqpConstants.NullBinary);
        }
    }
}
