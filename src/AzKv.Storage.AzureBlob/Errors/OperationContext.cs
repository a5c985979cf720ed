namespace AzKv.Storage.AzureBlob.Errors;

/// <summary>
/// What a request is about, for error messages: the REST operation and the resource. A struct,
/// and the resource string is only built when a message needs it, so the success path pays nothing.
/// </summary>
internal readonly record struct OperationContext(string Operation, string Container, string? Blob)
{
    /// <summary><c>container</c> or <c>container/blob</c>.</summary>
    public string Resource => Blob is null ? Container : Container + "/" + Blob;

    /// <summary>Message prefix: <c>Operation of 'container/blob'</c>.</summary>
    public override string ToString() => $"{Operation} of '{Resource}'";
}
