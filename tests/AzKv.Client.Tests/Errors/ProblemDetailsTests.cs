using System.Text;
using AzKv.Client.Errors;

namespace AzKv.Client.Tests.Errors;

public sealed class ProblemDetailsTests
{
    [Fact]
    public void FromBody_WhenBodyIsAProblemDocument_CopiesStatusTypeTitleAndDetail()
    {
        var body = """{"type":"https://azkv.dev/problems/invalid-key","title":"The key is invalid.","status":400,"detail":"A key must not contain control characters.","instance":"/v1/kv/a%01"}"""u8;

        var exception = ProblemDetails.FromBody(400, "Bad Request", "application/problem+json", body, "GET a", cursor: null);

        Assert.IsType<AzKvException>(exception);
        Assert.Equal(400, exception.Status);
        Assert.Equal(AzKvProblemTypes.InvalidKey, exception.ProblemType);
        Assert.Equal("The key is invalid.", exception.Title);
        Assert.Equal("A key must not contain control characters.", exception.Detail);
        Assert.Equal(
            "GET a failed: 400 The key is invalid.: A key must not contain control characters. (https://azkv.dev/problems/invalid-key)",
            exception.Message);
    }

    [Fact]
    public void FromBody_WhenStatusIs412_ReturnsPreconditionFailedException()
    {
        var body = """{"type":"https://azkv.dev/problems/precondition-failed","title":"Precondition failed.","status":412}"""u8;

        var exception = ProblemDetails.FromBody(412, "Precondition Failed", "application/problem+json", body, "PUT k", cursor: null);

        var precondition = Assert.IsType<AzKvPreconditionFailedException>(exception);
        Assert.Equal(412, precondition.Status);
        Assert.Equal(AzKvProblemTypes.PreconditionFailed, precondition.ProblemType);
    }

    [Fact]
    public void FromBody_WhenStatusIs410CursorExpired_ReturnsCursorExpiredExceptionWithTheCursor()
    {
        var body = """{"type":"https://azkv.dev/problems/cursor-expired","title":"The cursor expired.","status":410}"""u8;

        var exception = ProblemDetails.FromBody(410, "Gone", "application/problem+json", body, "WATCH app/", cursor: "abc");

        var expired = Assert.IsType<AzKvCursorExpiredException>(exception);
        Assert.Equal("abc", expired.Cursor);
        Assert.Equal(410, expired.Status);
    }

    [Fact]
    public void FromBody_WhenStatusIs410CursorForeign_ReturnsCursorExpiredExceptionSoTheCallerLists()
    {
        var body = """{"type":"https://azkv.dev/problems/cursor-foreign","title":"The watch cursor belongs to another store.","status":410}"""u8;

        var exception = ProblemDetails.FromBody(410, "Gone", "application/problem+json", body, "WATCH app/", cursor: "abc");

        var foreign = Assert.IsType<AzKvCursorExpiredException>(exception);
        Assert.Equal(AzKvProblemTypes.CursorForeign, foreign.ProblemType);
        Assert.Equal("abc", foreign.Cursor);
    }

    [Theory]
    [InlineData("application/problem+json", """{"type":"https://azkv.dev/problems/not-found","status":404}""", true)]
    [InlineData("application/problem+json", """{"type":"https://example.com/problems/not-found","status":404}""", false)]
    [InlineData("text/html", "<html>404 Not Found</html>", false)]
    [InlineData("application/json", """{"error":"no such route"}""", false)]
    [InlineData(null, "", false)]
    public void IsAzKvProblem_WhenGivenABody_RecognisesOnlyAzKvProblemTypes(string? mediaType, string body, bool expected)
    {
        Assert.Equal(expected, ProblemDetails.IsAzKvProblem(mediaType, Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public void FromBody_WhenBodyIsPlainText_UsesTheStatusLineAndTheText()
    {
        var exception = ProblemDetails.FromBody(502, "Bad Gateway", "text/plain", Encoding.UTF8.GetBytes("upstream closed\n"), "GET k", cursor: null);

        Assert.Equal(502, exception.Status);
        Assert.Null(exception.ProblemType);
        Assert.Equal("Bad Gateway", exception.Title);
        Assert.Equal("GET k failed: 502 Bad Gateway: upstream closed", exception.Message);
    }

    [Fact]
    public void FromBody_WhenProblemJsonIsMalformed_FallsBackToTheText()
    {
        var exception = ProblemDetails.FromBody(500, "Internal Server Error", "application/problem+json", "{not json"u8, "GET k", cursor: null);

        Assert.Equal(500, exception.Status);
        Assert.Null(exception.ProblemType);
        Assert.Equal("GET k failed: 500 Internal Server Error: {not json", exception.Message);
    }

    [Fact]
    public void FromBody_WhenBodyIsEmpty_NamesTheStatus()
    {
        var exception = ProblemDetails.FromBody(503, reasonPhrase: null, mediaType: null, ReadOnlySpan<byte>.Empty, "LIST", cursor: null);

        Assert.Equal("LIST failed: 503 ServiceUnavailable", exception.Message);
    }
}
