using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace AzKv.Server.Tests.Telemetry;

/// <summary>
/// The smallest OTLP/HTTP receiver that tells whether a trace arrived: it answers 200 to every POST
/// and keeps the bodies sent to <c>/v1/traces</c>. A trace id travels in OTLP protobuf as its 16
/// raw bytes, so finding them in a body means a span of that trace was exported.
/// </summary>
internal sealed class OtlpReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<byte[]> _traceBodies = new();
    private readonly Task _loop;

    public OtlpReceiver()
    {
        var port = AzKv.Testing.Server.InProcessServer.GetFreeLoopbackPort();
        Url = new Uri($"http://127.0.0.1:{port}");
        _listener.Prefixes.Add(Url.ToString());
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    /// <summary>The base URL to give the exporter (http/protobuf appends <c>/v1/traces</c> etc.).</summary>
    public Uri Url { get; }

    public bool ContainsTrace(ActivityTraceId trace)
    {
        Span<byte> id = stackalloc byte[16];
        trace.CopyTo(id);
        foreach (var body in _traceBodies)
        {
            if (body.AsSpan().IndexOf(id) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    public void Dispose()
    {
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The listener was closed under a pending accept: that is how the loop ends.
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (context.Request.Url?.AbsolutePath == "/v1/traces")
            {
                _traceBodies.Enqueue(body.ToArray());
            }

            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }
}
