using Azure.Core;
using AzKv.Storage.AzureBlob.Protocol;

namespace AzKv.Storage.AzureBlob;

/// <summary>
/// Pipeline options of the Azure Blob store: Azure.Core's retry, diagnostics and transport
/// settings, with defaults chosen for a store on a write path that holds leases.
/// </summary>
/// <remarks>
/// <para>Retry defaults (change them through <see cref="ClientOptions.Retry"/>):</para>
/// <list type="bullet">
/// <item><description><c>Mode = Exponential</c>, <c>MaxRetries = 3</c>, <c>Delay = 0.2 s</c>, <c>MaxDelay = 2 s</c>:
/// a transient failure (408, 429, 500, 502, 503, 504, no response) costs at most about 1.4 s of
/// back-off (plus Retry-After when the service sends one), well inside the 15-60 s lease an owner
/// holds, so one bad request does not cost the lease.</description></item>
/// <item><description><c>NetworkTimeout = 10 s</c>: an attempt whose response (or each read of its body)
/// takes longer is abandoned and retried. Blob operations answer in milliseconds; 10 s still fits
/// a 4 MiB Append Block over a slow link. Azure.Core's default (100 s) would outlast a lease.</description></item>
/// </list>
/// <para>The transport is one process-wide <see cref="System.Net.Http.SocketsHttpHandler"/> (pooled
/// connections recycled every 5 minutes so DNS changes are seen, up to 1024 connections per
/// endpoint, no cookies, no proxy, no redirects). Set <see cref="ClientOptions.Transport"/> to replace it.</para>
/// <para>Every request is signed after all per-retry policies the store adds; a policy added with
/// <see cref="ClientOptions.AddPolicy"/> must not add <c>x-ms-</c> headers, or Shared Key signatures break.</para>
/// </remarks>
public sealed class AzureBlobStoreOptions : ClientOptions
{
    // Azure.Core logs only allow-listed headers and query parameters; everything else is
    // REDACTED. These are safe and useful. Never add Authorization or x-ms-lease-id here.
    private static readonly string[] LoggedHeaders =
    [
        BlobHeaders.Version,
        BlobHeaders.ErrorCode,
        BlobHeaders.BlobType,
        BlobHeaders.Range,
        BlobHeaders.ContentRange,
        BlobHeaders.AppendPosition,
        BlobHeaders.AppendOffset,
        BlobHeaders.CommittedBlockCount,
        BlobHeaders.LeaseAction,
        BlobHeaders.LeaseDuration,
        BlobHeaders.LeaseBreakPeriod,
        BlobHeaders.LeaseState,
        BlobHeaders.LeaseTime,
        BlobHeaders.Sealed,
    ];

    private static readonly string[] LoggedQueryParameters = ["restype", "comp", "maxresults"];

    /// <summary>Creates options with the store's defaults.</summary>
    public AzureBlobStoreOptions()
    {
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 3;
        Retry.Delay = TimeSpan.FromMilliseconds(200);
        Retry.MaxDelay = TimeSpan.FromSeconds(2);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
        Transport = BlobTransport.Shared;

        foreach (string header in LoggedHeaders)
        {
            Diagnostics.LoggedHeaderNames.Add(header);
        }

        foreach (string parameter in LoggedQueryParameters)
        {
            Diagnostics.LoggedQueryParameters.Add(parameter);
        }
    }
}
