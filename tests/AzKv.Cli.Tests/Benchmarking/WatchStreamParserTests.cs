using System.Text;
using AzKv.Cli.Benchmarking;

namespace AzKv.Cli.Tests.Benchmarking;

public sealed class WatchStreamParserTests
{
    private const string Marker = "bench/watch/ab12/";

    [Fact]
    public void Consume_WhenChunkedSseArrivesInPiecesOfAnySize_ReportsEverySequenceAndTheLastId()
    {
        var body = Chunked(
            "event: change\nid: CUR1\ndata: {\"key\":\"bench/watch/ab12/7\",\"type\":\"put\"}\n\n",
            ": keep-alive\n\n",
            "event: change\nid: CUR2\ndata: {\"key\":\"bench/watch/ab12/12\",\"type\":\"put\"}\n\nevent: change\nid: CUR3\ndata: {\"key\":\"other/3\",\"type\":\"put\"}\n\n") + "0\r\n\r\n";
        var bytes = Encoding.UTF8.GetBytes(body);

        for (var piece = 1; piece <= bytes.Length; piece++)
        {
            var parser = new WatchStreamParser(Encoding.UTF8.GetBytes(Marker), base64Keys: false, chunked: true);
            var seen = new List<long>();
            for (var at = 0; at < bytes.Length; at += piece)
            {
                parser.Consume(bytes.AsSpan(at, Math.Min(piece, bytes.Length - at)), seen.Add);
            }

            Assert.Equal([7L, 12L], seen);
            Assert.Equal("CUR3", parser.LastId);
            Assert.True(parser.Ended);
        }
    }

    [Fact]
    public void Consume_WhenEtcdGatewayMessagesCarryBase64Keys_DecodesThemAndSeesCreated()
    {
        static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
        var body = Chunked(
            "{\"result\":{\"header\":{\"revision\":\"1\"},\"created\":true}}\n",
            "{\"result\":{\"header\":{\"revision\":\"3\"},\"events\":[{\"kv\":{\"key\":\"" + B64(Marker + "0") + "\",\"value\":\"eA==\"}},{\"kv\":{\"key\":\"" + B64(Marker + "1") + "\",\"value\":\"eA==\"}}]}}\n");
        var parser = new WatchStreamParser(Encoding.UTF8.GetBytes(Marker), base64Keys: true, chunked: true);
        var seen = new List<long>();

        parser.Consume(Encoding.UTF8.GetBytes(body), seen.Add);

        Assert.True(parser.SawCreated);
        Assert.Equal([0L, 1L], seen);
        Assert.False(parser.Ended);
    }

    private static string Chunked(params string[] chunks) =>
        string.Concat(chunks.Select(c => Encoding.UTF8.GetByteCount(c).ToString("x", System.Globalization.CultureInfo.InvariantCulture) + "\r\n" + c + "\r\n"));
}
