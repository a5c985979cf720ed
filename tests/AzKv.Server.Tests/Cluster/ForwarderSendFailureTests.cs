using AzKv.Server.Node;

namespace AzKv.Server.Tests.Cluster;

/// <summary>
/// What a front end answers when sending a request to the owner failed. A failed send never proves
/// the owner did not see it (SocketsHttpHandler re-sends a request whose reused connection closed
/// before any answer, so an owner killed after reading a write looks like "connection refused";
/// AzKv.Client.Tests' SendFailureTests pins that down). Found by the chaos run (seed 48885332): a
/// delete forwarded to an owner killed right after committing it was answered 503, the client took
/// it for "not applied", and the key's last acknowledged value was gone.
/// </summary>
public sealed class ForwarderSendFailureTests
{
    [Fact]
    public void AfterSendFailure_WhenADeleteWithoutAKeyFails_AnswersOutcomeUnknownNotUnavailable()
    {
        Assert.Equal(SendFailureAction.OutcomeUnknown, Forwarder.AfterSendFailure(read: false, hasBody: false, hasIdempotencyKey: false, attempt: 0));
    }

    [Fact]
    public void AfterSendFailure_WhenAPutWithABodyFails_AnswersOutcomeUnknown()
    {
        Assert.Equal(SendFailureAction.OutcomeUnknown, Forwarder.AfterSendFailure(read: false, hasBody: true, hasIdempotencyKey: true, attempt: 0));
    }

    [Fact]
    public void AfterSendFailure_WhenAKeyedDeleteFailsTheFirstTime_RetriesAtARefreshedOwner()
    {
        Assert.Equal(SendFailureAction.Retry, Forwarder.AfterSendFailure(read: false, hasBody: false, hasIdempotencyKey: true, attempt: 0));
        Assert.Equal(SendFailureAction.OutcomeUnknown, Forwarder.AfterSendFailure(read: false, hasBody: false, hasIdempotencyKey: true, attempt: 1));
    }

    [Fact]
    public void AfterSendFailure_WhenAReadFails_RetriesOnceThenAnswersUnavailable()
    {
        Assert.Equal(SendFailureAction.Retry, Forwarder.AfterSendFailure(read: true, hasBody: false, hasIdempotencyKey: false, attempt: 0));
        Assert.Equal(SendFailureAction.Unavailable, Forwarder.AfterSendFailure(read: true, hasBody: false, hasIdempotencyKey: false, attempt: 1));
    }
}
