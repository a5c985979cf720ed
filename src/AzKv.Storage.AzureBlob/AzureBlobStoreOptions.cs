using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage;
using Azure.Storage.Blobs;
using AzKv.Storage.AzureBlob.Transport;

namespace AzKv.Storage.AzureBlob;

/// <summary>
/// Retry and timeout settings of the Azure Blob store, applied to the SDK through
/// <see cref="ClientOptions.Retry"/> (<see cref="RetryOptions"/>).
/// </summary>
/// <remarks>
/// <para>Why these values, and how they combine with the engine's own retries:</para>
/// <list type="bullet">
/// <item><description>The SDK retries one request (408, 429, 500, 502, 503, 504, and failures without a
/// response) at most <see cref="MaxRetries"/> = 3 times, exponentially from <see cref="RetryDelay"/> = 0.2 s
/// up to <see cref="MaxRetryDelay"/> = 2 s (jittered; Retry-After honoured): about 1.4 s of back-off, so a
/// blip costs one slow call, not a step-down.</description></item>
/// <item><description><see cref="NetworkTimeout"/> = 10 s per attempt (Azure.Core's default, 100 s, would
/// outlast a 15-60 s lease). Blob operations answer in milliseconds; 10 s still fits a 4 MiB Append Block
/// over a slow link.</description></item>
/// <item><description>The engine retries above this (the partition writer for
/// <c>PartitionOptions.TransientRetryBudget</c>, lease renewal, heartbeats, replication rounds), but every
/// engine loop is bounded by <em>elapsed time</em>, not by a count of attempts. So the two layers add
/// instead of multiplying: the engine gives up at most one store call (≤ 4 × 10 s + 1.4 s on a hung network,
/// about 1.4 s otherwise) after its own budget ran out. Leases stay safe whatever the retries do: the
/// service refuses a write whose lease is gone.</description></item>
/// <item><description>Retried writes are all conditional, so a retry never overwrites another writer; a retried
/// Append Block whose first attempt landed answers 412 AppendPositionConditionNotMet, which the engine
/// resolves by reading the tail (see docs/storage-client.md).</description></item>
/// </list>
/// </remarks>
public sealed class AzureBlobStoreOptions
{
    /// <summary>
    /// The service version every request carries (<c>x-ms-version</c>): the newest one Azurite 3.35.0
    /// accepts without <c>--skipApiVersionCheck</c>. Changing it means re-running the contract suite on
    /// Azurite and on Azure; it is not a setting.
    /// </summary>
    internal const BlobClientOptions.ServiceVersion ServiceVersion = BlobClientOptions.ServiceVersion.V2025_11_05;

    /// <summary>Retries of one request after the first attempt (default 3).</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>First back-off delay; doubles per retry (default 0.2 s).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest back-off delay (default 2 s).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one attempt (or each read of its body) may take before it is abandoned and retried (default 10 s).</summary>
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The HTTP transport; null uses one process-wide connection pool (recycled every 5 minutes for DNS
    /// changes, up to 1024 connections per endpoint, no proxy, cookies or redirects). Tests replace it.
    /// </summary>
    public HttpPipelineTransport? Transport { get; set; }

    /// <summary>The SDK's options built from these settings.</summary>
    internal BlobClientOptions ToClientOptions()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRetries, nameof(MaxRetries));
        ArgumentOutOfRangeException.ThrowIfLessThan(RetryDelay, TimeSpan.Zero, nameof(RetryDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRetryDelay, RetryDelay, nameof(MaxRetryDelay));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(NetworkTimeout, TimeSpan.Zero, nameof(NetworkTimeout));

        var options = new BlobClientOptions(ServiceVersion)
        {
            Transport = Transport ?? BlobTransport.Shared,
        };
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = MaxRetries;
        options.Retry.Delay = RetryDelay;
        options.Retry.MaxDelay = MaxRetryDelay;
        options.Retry.NetworkTimeout = NetworkTimeout;

        // No transfer checksums (the SDK's "Auto" may pick one per version): every WAL record and
        // checkpoint carries its own CRC32C, and TLS protects the transfer on Azure. Explicit, so an
        // SDK update cannot add per-append hashing cost silently.
        options.TransferValidation.Upload.ChecksumAlgorithm = StorageChecksumAlgorithm.None;
        options.TransferValidation.Download.ChecksumAlgorithm = StorageChecksumAlgorithm.None;
        options.TransferValidation.Download.AutoValidateChecksum = false;
        return options;
    }
}
