using Azure.Core;
using Azure.Core.Pipeline;

namespace AzKv.Storage.AzureBlob.Authentication;

/// <summary>
/// Signs every attempt with Shared Key (<c>Authorization: SharedKey account:signature</c>).
/// Must run after <see cref="Protocol.StorageRequestPolicy"/> (which sets <c>x-ms-date</c>) and
/// after every policy that adds an <c>x-ms-</c> header, because those headers are signed.
/// </summary>
internal sealed class SharedKeyPolicy : HttpPipelineSynchronousPolicy
{
    private const string AuthorizationHeader = "Authorization";

    private readonly SharedKeyCredential _credential;
    private readonly string _authorizationPrefix;

    public SharedKeyPolicy(SharedKeyCredential credential)
    {
        _credential = credential;
        _authorizationPrefix = "SharedKey " + credential.AccountName + ":";
    }

    public override void OnSendingRequest(HttpMessage message)
    {
        string stringToSign = SharedKeyStringToSign.Build(message.Request, _credential.AccountName);
        string signature = _credential.ComputeSignature(stringToSign);
        message.Request.Headers.SetValue(AuthorizationHeader, _authorizationPrefix + signature);
    }
}
