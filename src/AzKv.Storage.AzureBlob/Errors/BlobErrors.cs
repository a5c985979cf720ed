using System.Net.Http;
using System.Net.Sockets;
using Azure;
using Azure.Identity;

namespace AzKv.Storage.AzureBlob.Errors;

/// <summary>
/// The one place where <see cref="BlobStorageException"/>s are made: from the SDK's
/// <see cref="RequestFailedException"/> (status and <c>x-ms-error-code</c>), from a failure without a
/// response, or synthesized where the client enforces a rule itself.
/// </summary>
/// <remarks>
/// The SDK's own exception message is never copied: it carries the error body, and for a
/// refused Shared Key signature that body echoes the string the service signed. Messages carry
/// the operation, the resource, the status, the error code and the request id only; never a
/// header value, the account key, a SAS or a token.
/// </remarks>
internal static class BlobErrors
{
    /// <summary>A success response lacked something the protocol promises (an unparsable header).</summary>
    public const string InvalidResponse = "InvalidResponse";

    /// <summary>The token credential could not produce a token (Entra ID).</summary>
    public const string CredentialUnavailable = "CredentialUnavailable";

    /// <summary>
    /// Classifies an exception thrown by an SDK call. True with <paramref name="translated"/> set when
    /// it must be thrown instead; false when <paramref name="exception"/> must propagate as it is (the
    /// caller's own cancellation, or a bug). The caller's cancellation always surfaces as an
    /// <see cref="OperationCanceledException"/>, also when it interrupted a retry.
    /// </summary>
    public static bool TryTranslate(
        Exception exception, OperationContext context, CancellationToken cancellationToken, out Exception translated)
    {
        translated = exception;
        if (exception is BlobStorageException)
        {
            return false;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            if (exception is OperationCanceledException)
            {
                return false;
            }

            translated = new OperationCanceledException($"{context} was canceled.", exception, cancellationToken);
            return true;
        }

        if (exception is AuthenticationFailedException)
        {
            // Azure.Identity could not get a token: no request reached storage. Its message names
            // the credential chain that failed; it carries no token.
            translated = new BlobStorageException(
                401, CredentialUnavailable, $"{context} failed: no Entra ID token could be obtained ({exception.Message}).", exception);
            return true;
        }

        if (exception is RequestFailedException { Status: not 0 } failed)
        {
            translated = FromRequestFailed(failed, context);
            return true;
        }

        if (IsNoResponse(exception))
        {
            translated = new BlobStorageException(
                0,
                BlobErrorCodes.NoResponse,
                $"{context} got no response ({Describe(exception)}); it may or may not have taken effect.",
                exception);
            return true;
        }

        return false;
    }

    /// <summary>
    /// An HTTP answer the SDK refused: status and error code as the service sent them
    /// (<c>x-ms-error-code</c>, or the body's <c>Code</c>, which the SDK reads). A 304 keeps its status
    /// (<see cref="BlobStorageException.IsNotModified"/>).
    /// </summary>
    public static BlobStorageException FromRequestFailed(RequestFailedException exception, OperationContext context) =>
        Create(exception.Status, exception.ErrorCode, exception.GetRawResponse(), context, exception);

    /// <summary>
    /// An answer the SDK returned without a value instead of throwing: Download turns a 304 (If-None-Match
    /// matched) into a response without a body. Classified like any other answer.
    /// </summary>
    public static BlobStorageException FromResponse(Response response, OperationContext context)
    {
        response.Headers.TryGetValue("x-ms-error-code", out string? code);
        return Create(response.Status, code, response, context, innerException: null);
    }

    private static BlobStorageException Create(int status, string? errorCode, Response? response, OperationContext context, Exception? innerException)
    {
        string? code = string.IsNullOrEmpty(errorCode) ? null : errorCode;
        string? requestId = null;
        response?.Headers.TryGetValue("x-ms-request-id", out requestId);

        string text = $"{context} failed: HTTP {status}{(code is null ? string.Empty : " " + code)}";
        if (!string.IsNullOrEmpty(requestId))
        {
            text += $" (x-ms-request-id {requestId})";
        }

        return new BlobStorageException(status, code, text, innerException);
    }

    /// <summary>An error the client raises itself, with the code the service would have used.</summary>
    public static BlobStorageException Synthesized(int status, string code, OperationContext context, string detail) =>
        new(status, code, $"{context} failed: HTTP {status} {code}: {detail}");

    /// <summary>A success response with a value the client cannot use.</summary>
    public static BlobStorageException Invalid(int status, OperationContext context, string detail) =>
        new(status, InvalidResponse, $"{context}: the HTTP {status} response is invalid ({detail}).");

    /// <summary>
    /// True for failures without an HTTP answer: connection refused or reset, DNS, TLS, the network
    /// timeout (RetryOptions.NetworkTimeout, which is not the caller's token), a body cut short; also
    /// Azure.Core's AggregateException after the last retry when every attempt failed so.
    /// </summary>
    private static bool IsNoResponse(Exception exception)
    {
        switch (exception)
        {
            case RequestFailedException failed:
                return failed.Status == 0;
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
        RequestFailedException => "no response",
        _ => exception.Message,
    };
}
