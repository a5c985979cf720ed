using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;

namespace AzKv.Storage.AzureBlob.Protocol;

/// <summary>
/// Stamps every attempt with the pinned <c>x-ms-version</c> and a fresh <c>x-ms-date</c>.
/// Runs per retry, before the authentication policy, so each attempt is signed with its own date.
/// </summary>
internal sealed class StorageRequestPolicy : HttpPipelineSynchronousPolicy
{
    private readonly TimeProvider _timeProvider;

    public StorageRequestPolicy(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
    }

    public override void OnSendingRequest(HttpMessage message)
    {
        RequestHeaders headers = message.Request.Headers;
        headers.SetValue(BlobHeaders.Version, BlobHeaders.ServiceVersion);
        headers.SetValue(BlobHeaders.Date, _timeProvider.GetUtcNow().ToString("R", CultureInfo.InvariantCulture));
    }
}
