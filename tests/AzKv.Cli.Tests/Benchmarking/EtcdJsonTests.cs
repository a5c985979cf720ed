using System.Text;
using AzKv.Cli.Benchmarking;

namespace AzKv.Cli.Tests.Benchmarking;

public sealed class EtcdJsonTests
{
    [Fact]
    public void EncodePut_WhenGivenKeyAndValue_WritesBothAsBase64()
    {
        var json = EtcdJson.EncodePut("foo"u8, "bar"u8);

        Assert.Equal("""{"key":"Zm9v","value":"YmFy"}""", Encoding.UTF8.GetString(json));
    }

    [Fact]
    public void EncodeRange_WhenSerializable_AsksForASerializableRead()
    {
        var json = EtcdJson.EncodeRange("bench/000042"u8, serializable: true);

        Assert.Equal("""{"key":"YmVuY2gvMDAwMDQy","serializable":true}""", Encoding.UTF8.GetString(json));
    }

    [Fact]
    public void EncodeRange_WhenLinearizable_LeavesTheFlagOut()
    {
        Assert.Equal("""{"key":"Zm9v"}""", Encoding.UTF8.GetString(EtcdJson.EncodeRange("foo"u8, serializable: false)));
    }

    [Fact]
    public void EncodePut_WhenTheValueIsBinary_RoundTripsThroughARangeAnswer()
    {
        var value = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        using var put = System.Text.Json.JsonDocument.Parse(EtcdJson.EncodePut("k"u8, value));
        Assert.Equal(value, put.RootElement.GetProperty("value").GetBytesFromBase64());
        Assert.Equal("k"u8.ToArray(), put.RootElement.GetProperty("key").GetBytesFromBase64());

        var base64 = Convert.ToBase64String(value);

        var answer = $$"""{"header":{"revision":"3"},"kvs":[{"key":"aw==","value":"{{base64}}"}],"count":"1"}""";
        Assert.True(EtcdJson.TryReadRange(Encoding.UTF8.GetBytes(answer), out var count, out var read));
        Assert.Equal(1, count);
        Assert.Equal(value, read);
    }

    [Fact]
    public void TryReadRange_WhenTheKeyExists_ReadsCountAndValue()
    {
        // What etcd 3.4's gateway answers (int64 as strings).
        var answer = """
            {"header":{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"7","raft_term":"2"},
             "kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"7","version":"6","value":"YmFy"}],"count":"1"}
            """u8;

        Assert.True(EtcdJson.TryReadRange(answer, out var count, out var value));
        Assert.Equal(1, count);
        Assert.Equal("bar"u8.ToArray(), value);
    }

    [Fact]
    public void TryReadRange_WhenTheKeyIsMissing_ReportsZero()
    {
        // Proto3 JSON leaves out zero counts and empty lists.
        var answer = """{"header":{"cluster_id":"1","member_id":"2","revision":"7","raft_term":"2"}}"""u8;

        Assert.True(EtcdJson.TryReadRange(answer, out var count, out var value));
        Assert.Equal(0, count);
        Assert.Empty(value);
    }

    [Theory]
    [InlineData("""{"error":"etcdserver: request timed out","code":14}""")]
    [InlineData("not json")]
    [InlineData("[]")]
    public void TryReadRange_WhenNotARangeAnswer_IsFalse(string answer)
    {
        Assert.False(EtcdJson.TryReadRange(Encoding.UTF8.GetBytes(answer), out _, out _));
    }

    [Fact]
    public void TryReadRevision_WhenAPutAnswer_ReadsTheHeaderRevision()
    {
        var answer = """{"header":{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"12345","raft_term":"2"}}"""u8;

        Assert.True(EtcdJson.TryReadRevision(answer, out var revision));
        Assert.Equal(12345, revision);
    }

    [Fact]
    public void TryReadRevision_WhenAnError_IsFalse()
    {
        Assert.False(EtcdJson.TryReadRevision("""{"error":"bad","code":3,"message":"bad"}"""u8, out _));
    }
}
