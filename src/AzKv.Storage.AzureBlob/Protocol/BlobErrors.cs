using System.Buffers;
using System.Net.Http;
using System.Net.Sockets;
using System.Xml;
using Azure;
using Azure.Core;
using Azure.Identity;

namespace AzKv.Storage.AzureBlob.Protocol;

/// <summary>
/// The one place where <see cref="BlobStorageException"/>s are made: from an error response,
/// from a failure without a response, or synthesized where the client enforces a rule itself.
/// </summary>
/// <remarks>
/// Messages carry the operation, the resource, the status, the service error code, the first
/// line of the service's message and the request id. They never carry request headers, the
/// Authorization value, the account key, a SAS or a token, nor the service's
/// AuthenticationErrorDetail (which echoes the signature).
/// </remarks>
internal static class BlobErrors
{
    /// <summary>The response lacked something the protocol promises (a required header).</summary>
    public const string InvalidResponse = "InvalidResponse";

    /// <summary>The token credential could not produce a token (Entra ID).</summary>
    public const string CredentialUnavailable = "CredentialUnavailable";

    private const int MaxErrorBodyBytes = 64 * 1024;

    private static readonly XmlReaderSettings ErrorXmlSettings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreWhitespace = true,
        IgnoreProcessingInstructions = true,
        Async = false,
    };

    /// <summary>Turns a non-success response into an exception; reads at most 64 KiB of its body.</summary>
    public static async ValueTask<BlobStorageException> FromResponseAsync(
        Response response, OperationContext context, CancellationToken cancellationToken)
    {
        response.Headers.TryGetValue(BlobHeaders.ErrorCode, out string? code);
        response.Headers.TryGetValue(BlobHeaders.RequestId, out string? requestId);

        string? serviceMessage = null;
        if (response.ContentStream is Stream body)
        {
            (string? bodyCode, serviceMessage) = await TryReadErrorBodyAsync(body, cancellationToken).ConfigureAwait(false);
            if (string.IsNullOrEmpty(code))
            {
                code = bodyCode;
            }
        }

        if (string.IsNullOrEmpty(code))
        {
            code = null;
        }

        string text = $"{context} failed: HTTP {response.Status}{(code is null ? string.Empty : " " + code)}";
        if (!string.IsNullOrEmpty(serviceMessage))
        {
            text += ": " + serviceMessage;
        }

        if (!string.IsNullOrEmpty(requestId))
        {
            text += $" (x-ms-request-id {requestId})";
        }

        return new BlobStorageException(response.Status, code, text);
    }

    /// <summary>
    /// Classifies an exception thrown by the pipeline. Returns the exception to throw instead, or
    /// null when <paramref name="exception"/> is not a storage failure (a bug) and must propagate.
    /// The caller's own cancellation always comes back as an <see cref="OperationCanceledException"/>.
    /// </summary>
    public static Exception? Translate(Exception exception, OperationContext context, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return exception as OperationCanceledException
                ?? new OperationCanceledException($"{context} was canceled.", exception, cancellationToken);
        }

        if (exception is AuthenticationFailedException)
        {
            // Azure.Identity could not get a token: no request reached storage. Its message names
            // the credential chain that failed; it carries no token.
            return new BlobStorageException(
                401,
                CredentialUnavailable,
                $"{context} failed: no Entra ID token could be obtained ({exception.Message}).",
                exception);
        }

        if (IsNoResponse(exception))
        {
            return new BlobStorageException(
                0,
                BlobErrorCodes.NoResponse,
                $"{context} got no response ({Describe(exception)}); it may or may not have taken effect.",
                exception);
        }

        return null;
    }

    /// <summary>An error the client raises itself, with the code the service would have used.</summary>
    public static BlobStorageException Synthesized(int status, string code, OperationContext context, string detail) =>
        new(status, code, $"{context} failed: HTTP {status} {code}: {detail}");

    /// <summary>A success response that lacks a header the protocol promises.</summary>
    public static BlobStorageException MissingHeader(Response response, string header, OperationContext context) =>
        new(response.Status, InvalidResponse, $"{context}: the HTTP {response.Status} response has no valid '{header}' header.");

    /// <summary>A success response whose body could not be parsed.</summary>
    public static BlobStorageException InvalidBody(Response response, OperationContext context, Exception inner) =>
        new(response.Status, InvalidResponse, $"{context}: the HTTP {response.Status} response body is malformed ({inner.Message}).", inner);

    /// <summary>
    /// True for failures without an HTTP answer: connection refused or reset, DNS, TLS, a network
    /// timeout (Azure.Core's RetryOptions.NetworkTimeout, which is not the caller's token), a body
    /// cut short; also Azure.Core's AggregateException after retries when all attempts failed so.
    /// </summary>
    private static bool IsNoResponse(Exception exception)
    {
        switch (exception)
        {
            case RequestFailedException rfe:
                return rfe.Status == 0;
            case HttpRequestException or IOException or SocketException or TimeoutException or OperationCanceledException:
                return true;
            case AggregateException aggregate:
                foreach (Exception inner in aggregate.InnerExceptions)
                {
                    if (!IsNoResponse(inner))
                    {
                        return false;
                    }
                }

                return aggregate.InnerExceptions.Count > 0;
            default:
                return false;
        }
    }

    private static string Describe(Exception exception) => exception switch
    {
        AggregateException { InnerExceptions.Count: > 0 } aggregate =>
            $"{aggregate.InnerExceptions.Count} attempts; last: {Describe(aggregate.InnerExceptions[^1])}",
        OperationCanceledException => "network timeout",
        RequestFailedException { InnerException: { } inner } => Describe(inner),
        _ => exception.Message,
    };

    private static async ValueTask<(string? Code, string? Message)> TryReadErrorBodyAsync(Stream body, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxErrorBodyBytes);
        try
        {
            int length = 0;
            while (length < MaxErrorBodyBytes)
            {
                int read = await body.ReadAsync(buffer.AsMemory(length, MaxErrorBodyBytes - length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            return length == 0 ? default : ParseErrorXml(buffer.AsSpan(0, length));
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or NotSupportedException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The header code (if any) still stands; the body is only a fallback.
            return default;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads &lt;Error&gt;&lt;Code/&gt;&lt;Message/&gt;&lt;/Error&gt;; other elements are skipped.</summary>
    internal static (string? Code, string? Message) ParseErrorXml(ReadOnlySpan<byte> xml)
    {
        string? code = null;
        string? message = null;
        try
        {
            using var stream = new MemoryStream(xml.ToArray(), writable: false);
            using var reader = XmlReader.Create(stream, ErrorXmlSettings);
            while (!reader.EOF)
            {
                if (reader.NodeType == XmlNodeType.Element && reader.Depth == 1)
                {
                    if (reader.LocalName == "Code")
                    {
                        code = reader.ReadElementContentAsString();
                        continue;
                    }

                    if (reader.LocalName == "Message")
                    {
                        message = FirstLine(reader.ReadElementContentAsString());
                        continue;
                    }
                }

                reader.Read();
            }
        }
        catch (XmlException)
        {
            // Not XML (a proxy's HTML page, say): keep what was read.
        }

        return (code, message);
    }

    private static string FirstLine(string text)
    {
        int newline = text.AsSpan().IndexOfAny('\r', '\n');
        return (newline < 0 ? text : text[..newline]).Trim();
    }
}
