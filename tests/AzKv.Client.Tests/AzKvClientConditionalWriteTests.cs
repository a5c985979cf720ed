using System.Net;
using System.Text;
using AzKv.Client.Tests.Support;

namespace AzKv.Client.Tests;

/// <summary>
/// A conditional write whose outcome is unknown (504 <c>outcome-unknown</c>, or sent and unanswered) is retried
/// only with its Idempotency-Key (the server answers the retry with the first attempt's outcome); without keys it
/// is not retried, as a retry would fail its precondition on its own first attempt. No server needed.
/// </summary>
public sealed class AzKvClientConditionalWriteTests
{
    private static readonly Uri[] TwoEndpoints = [new("http://127.0.0.1:1"), new("http://127.0.0.2:1")];

    [Fact]
    public async Task PutAsync_WhenACasWriteWithoutKeysAnswersOutcomeUnknown_ThrowsWithoutRetrying()
    {
        using var handler = new FaultInjectingHandler { Fault = (_, _) => OutcomeUnknown() };
        using var client = Create(handler, sendIdempotencyKeys: false);

        var error = await Assert.ThrowsAsync<AzKvOutcomeUnknownException>(
            () => client.PutAsync("k", Encoding.UTF8.GetBytes("v2"), condition: KvCondition.IfMatch("\"r1:1\"")));

        Assert.Equal(504, error.Status);
        Assert.Equal(AzKvProblemTypes.OutcomeUnknown, error.ProblemType);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task DeleteAsync_WhenAConditionalDeleteWithoutKeysIsSentAndTheConnectionDrops_ThrowsOutcomeUnknownWithoutRetrying()
    {
        using var handler = new FaultInjectingHandler
        {
            Fault = (_, _) => throw new HttpRequestException(HttpRequestError.ResponseEnded, "The response ended prematurely (injected)"),
        };
        using var client = Create(handler, sendIdempotencyKeys: false);

        await Assert.ThrowsAsync<AzKvOutcomeUnknownException>(() => client.DeleteAsync("k", ifMatch: "\"r1:1\""));

        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task DeleteAsync_WhenAConditionalDeleteWithoutKeysEndsInConnectionRefused_ThrowsOutcomeUnknownWithoutRetrying()
    {
        // What SocketsHttpHandler reports when the server read the request on a reused connection and
        // then died: its own re-send is refused (SendFailureTests pins that down).
        using var handler = new FaultInjectingHandler
        {
            Fault = (_, _) => throw new HttpRequestException(
                HttpRequestError.ConnectionError,
                "Connection refused (injected)",
                new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused)),
        };
        using var client = Create(handler, sendIdempotencyKeys: false);

        await Assert.ThrowsAsync<AzKvOutcomeUnknownException>(() => client.DeleteAsync("k", ifMatch: "\"r1:1\""));

        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task PutAsync_WhenABlindWriteAnswersOutcomeUnknown_RetriesIt()
    {
        using var handler = new FaultInjectingHandler { Fault = (_, index) => index == 0 ? OutcomeUnknown() : Created() };
        using var client = Create(handler);

        var result = await client.PutAsync("k", Encoding.UTF8.GetBytes("v"));

        Assert.Equal("\"r1:2\"", result.ETag);
        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task PutAsync_WhenACasWriteWithAKeyAnswersOutcomeUnknown_RetriesItWithTheSameKey()
    {
        using var handler = new FaultInjectingHandler { Fault = (_, index) => index == 0 ? OutcomeUnknown() : Created() };
        using var client = Create(handler);

        var result = await client.PutAsync("k", Encoding.UTF8.GetBytes("v2"), condition: KvCondition.IfMatch("\"r1:1\""));

        Assert.Equal("\"r1:2\"", result.ETag);
        Assert.Equal(2, handler.Requests.Count);
        var keys = handler.RequestHeaders.Select(h => Assert.Single(h.GetValues("Idempotency-Key"))).ToArray();
        Assert.Equal(keys[0], keys[1]);
        Assert.InRange(keys[0].Length, 1, 128);
    }

    [Fact]
    public async Task DeleteAsync_WhenAConditionalDeleteWithAKeyLosesItsConnection_RetriesItWithTheSameKey()
    {
        using var handler = new FaultInjectingHandler
        {
            Fault = (_, index) => index == 0
                ? throw new HttpRequestException(HttpRequestError.ResponseEnded, "The response ended prematurely (injected)")
                : new HttpResponseMessage(HttpStatusCode.NoContent),
        };
        using var client = Create(handler);

        Assert.True(await client.DeleteAsync("k", ifMatch: "\"r1:1\""));

        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal(
            Assert.Single(handler.RequestHeaders[0].GetValues("Idempotency-Key")),
            Assert.Single(handler.RequestHeaders[1].GetValues("Idempotency-Key")));
    }

    [Fact]
    public async Task PutAsync_WhenTwoLogicalWrites_SendsTwoDifferentKeys()
    {
        using var handler = new FaultInjectingHandler { Fault = (_, _) => Created() };
        using var client = Create(handler);

        await client.PutAsync("k", Encoding.UTF8.GetBytes("a"));
        await client.PutAsync("k", Encoding.UTF8.GetBytes("a"));

        Assert.NotEqual(
            Assert.Single(handler.RequestHeaders[0].GetValues("Idempotency-Key")),
            Assert.Single(handler.RequestHeaders[1].GetValues("Idempotency-Key")));
    }

    private static AzKvClient Create(FaultInjectingHandler handler, bool sendIdempotencyKeys = true) => new(new AzKvClientOptions
    {
        SendIdempotencyKeys = sendIdempotencyKeys,
        Endpoints = TwoEndpoints,
        Handler = handler,
        MaxRetries = 3,
        InitialBackoff = TimeSpan.FromMilliseconds(1),
        MaxBackoff = TimeSpan.FromMilliseconds(2),
    });

    private static HttpResponseMessage OutcomeUnknown() => new(HttpStatusCode.GatewayTimeout)
    {
        Content = new StringContent(
            """{"type":"https://azkv.dev/problems/outcome-unknown","title":"The outcome of the write is unknown.","status":504,"detail":"injected"}""",
            Encoding.UTF8,
            "application/problem+json"),
    };

    private static HttpResponseMessage Created()
    {
        var response = new HttpResponseMessage(HttpStatusCode.Created)
        {
            Content = new StringContent("""{"key":"k","etag":"\"r1:2\"","created":true}""", Encoding.UTF8, "application/json"),
        };
        response.Headers.ETag = new System.Net.Http.Headers.EntityTagHeaderValue("\"r1:2\"");
        return response;
    }
}
