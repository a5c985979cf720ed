using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using AzKv.Client.Serialization;

namespace AzKv.Client.Errors;

/// <summary>Makes every exception the client throws for a server answer: the one place that maps status and problem type to a type.</summary>
internal static class ProblemDetails
{
    /// <summary>Longest piece of a non-problem body quoted in a message.</summary>
    private const int MaxQuotedBodyChars = 300;

    public static async Task<AzKvException> ToExceptionAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        return FromBody((int)response.StatusCode, response.ReasonPhrase, mediaType, body, operation, cursor: null);
    }

    /// <summary>Builds the exception for a status and body; pure, so it is unit-tested directly.</summary>
    public static AzKvException FromBody(int status, string? reasonPhrase, string? mediaType, ReadOnlySpan<byte> body, string operation, string? cursor)
    {
        var problem = TryParse(mediaType, body);
        var title = problem?.Title ?? reasonPhrase ?? ((HttpStatusCode)status).ToString();
        var detail = problem?.Detail;
        var type = problem?.Type;
        var message = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"{operation} failed: {status} {title}");
        if (!string.IsNullOrEmpty(detail))
        {
            message.Append(": ").Append(detail);
        }
        else if (problem is null && body.Length > 0)
        {
            var text = Encoding.UTF8.GetString(body).Trim();
            if (text.Length > 0)
            {
                message.Append(": ").Append(text.Length > MaxQuotedBodyChars ? text[..MaxQuotedBodyChars] + "…" : text);
            }
        }

        if (type is not null && type != "about:blank")
        {
            message.Append(" (").Append(type).Append(')');
        }

        var text2 = message.ToString();
        return status switch
        {
            412 => new AzKvPreconditionFailedException(text2, type, title, detail),
            504 when type is AzKvProblemTypes.OutcomeUnknown => new AzKvOutcomeUnknownException(text2, status, type, title, detail),
            410 when type is null or AzKvProblemTypes.CursorExpired => new AzKvCursorExpiredException(text2, cursor, type, title, detail),
            _ => new AzKvException(text2, status, type, title, detail),
        };
    }

    private static ProblemDocument? TryParse(string? mediaType, ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty || mediaType is null ||
            !(mediaType.Equals("application/problem+json", StringComparison.OrdinalIgnoreCase) ||
              mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        try
        {
            var problem = JsonSerializer.Deserialize(body, ClientJsonContext.Default.ProblemDocument);
            return problem is { Type: null, Title: null, Detail: null } ? null : problem;
        }
        catch (JsonException)
        {
            // Not a problem document after all: fall back to the status line and the text.
            return null;
        }
    }
}
