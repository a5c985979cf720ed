using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AzKv.Functions.Tests;

/// <summary>
/// A real <see cref="DefaultHttpContext"/> as the worker's Kestrel hands it to a function: method,
/// raw target (percent-encoding as sent), path, query, headers, body, and a response body to read.
/// </summary>
internal sealed class FunctionRequest
{
    private readonly ResponseStream _body = new();

    private FunctionRequest(DefaultHttpContext context)
    {
        Context = context;
        context.Response.Body = _body;
    }

    public DefaultHttpContext Context { get; }

    public HttpRequest Request => Context.Request;

    public HttpResponse Response => Context.Response;

    /// <summary>The response stream, readable while a streaming endpoint still writes.</summary>
    public ResponseStream Body => _body;

    public static FunctionRequest Create(string method, string target, byte[]? body = null, string? contentType = null, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        var request = context.Request;
        request.Method = method;
        request.Scheme = "https";
        request.Host = new HostString("azkv-fe.azurewebsites.net");
        var query = target.IndexOf('?', StringComparison.Ordinal);
        request.Path = PathString.FromUriComponent(query < 0 ? target : target[..query]);
        request.QueryString = new QueryString(query < 0 ? string.Empty : target[query..]);
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = target;
        foreach (var (name, value) in headers)
        {
            request.Headers.Append(name, value);
        }

        if (body is not null)
        {
            request.Body = new MemoryStream(body);
            request.ContentLength = body.Length;
            request.ContentType = contentType;
        }

        return new FunctionRequest(context);
    }

    public string ReadBody() => Encoding.UTF8.GetString(_body.ToArray());

    public string? Header(string name) => Response.Headers.TryGetValue(name, out var value) ? value.ToString() : null;
}

/// <summary>A response body that can be read while it is written, and awaited for some text.</summary>
internal sealed class ResponseStream : Stream
{
    private readonly Lock _lock = new();
    private readonly MemoryStream _buffer = new();
    private TaskCompletionSource _written = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public byte[] ToArray()
    {
        lock (_lock)
        {
            return _buffer.ToArray();
        }
    }

    /// <summary>Waits until the body contains <paramref name="text"/>; returns the body so far.</summary>
    public async Task<string> WaitForAsync(string text, TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        while (true)
        {
            Task written;
            lock (_lock)
            {
                var body = Encoding.UTF8.GetString(_buffer.ToArray());
                if (body.Contains(text, StringComparison.Ordinal))
                {
                    return body;
                }

                written = _written.Task;
            }

            try
            {
                await written.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"The response did not contain '{text}' within {deadline.TotalSeconds} s; it holds: {Encoding.UTF8.GetString(ToArray())}");
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        TaskCompletionSource written;
        lock (_lock)
        {
            _buffer.Write(buffer, offset, count);
            written = _written;
            _written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        written.TrySetResult();
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer, offset, count);
        return Task.CompletedTask;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.ToArray(), 0, buffer.Length);
        return ValueTask.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
