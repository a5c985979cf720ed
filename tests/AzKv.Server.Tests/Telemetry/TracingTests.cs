using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;

namespace AzKv.Server.Tests.Telemetry;

/// <summary>
/// Issue 13 §4: one request is one trace across front end → owner → storage. Two real nodes run in
/// this process on Azurite (a frontend-only node and an owner-only node), with OTLP export on to a
/// small receiver here; an <see cref="ActivityListener"/> sees every span of the process, and the
/// test follows the parent links of the request's trace.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class TracingTests : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static readonly HashSet<string> TracedSources = new(StringComparer.Ordinal)
    {
        "Microsoft.AspNetCore", "System.Net.Http", "AzKv.Engine",
    };

    private readonly AzuriteFixture _azurite;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;
    private readonly OtlpReceiver _receiver = new();
    private InProcessServer? _owner;
    private InProcessServer? _frontEnd;

    public TracingTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => TracedSources.Contains(source.Name) || source.Name.StartsWith("Azure.", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public async Task InitializeAsync()
    {
        var container = InProcessServer.NewContainer();
        string[] telemetry = ["--AzKv:Telemetry:OtlpEndpoint=" + _receiver.Url, "--AzKv:Telemetry:OtlpProtocol=http/protobuf"];
        _owner = await InProcessServer.StartAsync(_azurite.ConnectionString, container, nodeId: "trace-owner", extraArguments: ["--AzKv:Roles=owner", .. telemetry]);
        _frontEnd = await InProcessServer.StartAsync(_azurite.ConnectionString, container, nodeId: "trace-frontend", extraArguments: ["--AzKv:Roles=frontend", .. telemetry]);
    }

    public async Task DisposeAsync()
    {
        if (_frontEnd is not null)
        {
            await _frontEnd.DisposeAsync();
        }

        if (_owner is not null)
        {
            await _owner.DisposeAsync();
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        _receiver.Dispose();
    }

    [Fact]
    public async Task Put_WhenForwardedFromFrontEndToOwner_IsOneTraceWithTheAppendAndItsStorageCallUnderTheOwner()
    {
        var (root, status) = await PutThroughFrontEndAsync("traced/key", "v1");
        Assert.Equal(HttpStatusCode.Created, status);
        var trace = root.TraceId;

        // The front end's server span: the child of the test's own client span.
        var spans = await WaitForSpansAsync(trace, s =>
            s.Any(a => a.Source.Name == "AzKv.Engine") && s.Count(a => a.Source.Name == "Microsoft.AspNetCore") >= 2);
        var byId = spans.ToDictionary(a => a.SpanId);
        var testClient = Assert.Single(spans, a => a.Source.Name == "System.Net.Http" && a.ParentSpanId == root.SpanId);
        var frontEnd = Assert.Single(spans, a => a.Source.Name == "Microsoft.AspNetCore" && a.ParentSpanId == testClient.SpanId);

        // The owner's server span: under a client span of the front end (the forwarded request).
        var owner = Assert.Single(spans, a => a.Source.Name == "Microsoft.AspNetCore" && a != frontEnd);
        var forward = byId[owner.ParentSpanId];
        Assert.Equal("System.Net.Http", forward.Source.Name);
        Assert.Equal(frontEnd.SpanId, forward.ParentSpanId);
        Assert.Equal(ActivityKind.Server, owner.Kind);
        Assert.Equal(ActivityKind.Client, forward.Kind);

        // The group-commit append of the write: a child of the owner's request, tagged; the Append
        // Block to storage under it.
        var append = Assert.Single(spans, a => a.Source.Name == "AzKv.Engine");
        Assert.Equal("azkv.wal.append", append.OperationName);
        Assert.Equal(owner.SpanId, append.ParentSpanId);
        Assert.Equal(1, Assert.IsType<int>(append.GetTagItem("azkv.batch.writes")));
        Assert.True((long)append.GetTagItem("azkv.wal.records")! >= 1);
        // The writer does nothing under this span but the Append Block (the Azure SDK's span, when
        // its switch is on, and the HTTP call to Azurite).
        Assert.Contains(spans, a => a.Source.Name == "System.Net.Http" && a.Kind == ActivityKind.Client && IsUnder(a, append, byId));

        // Every span of the request shares the trace id the test started (the filter above), and the
        // nodes exported it over OTLP.
        Assert.All(new[] { frontEnd, forward, owner, append }, a => Assert.Equal(trace, a.TraceId));
        await WaitUntilAsync(() => _receiver.ContainsTrace(trace), "the OTLP receiver never got the request's spans");
    }

    [Fact]
    public async Task Put_WhenTheCallerSendsATraceparent_TheNodesContinueThatTrace()
    {
        // A caller outside .NET: only the W3C header, no span in this process. First wait until the
        // owner serves, so the traced request is the only one of its trace.
        var (_, ready) = await PutThroughFrontEndAsync("traced/warm-up", "v");
        Assert.Equal(HttpStatusCode.Created, ready);
        var traceId = ActivityTraceId.CreateRandom();
        var parent = ActivitySpanId.CreateRandom();
        using var http = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null });

        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(_frontEnd!.Url, "/v1/kv/traced/header")) { Content = new StringContent("v") };
        request.Headers.Add("traceparent", $"00-{traceId}-{parent}-01");
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var spans = await WaitForSpansAsync(traceId, s => s.Any(a => a.Source.Name == "AzKv.Engine"));
        Assert.Contains(spans, a => a.Source.Name == "Microsoft.AspNetCore" && a.ParentSpanId == parent);
        Assert.Equal(2, spans.Count(a => a.Source.Name == "Microsoft.AspNetCore"));
    }

    /// <summary>PUTs through the front end inside a span of the test, retrying (new span each time) until the owner serves it.</summary>
    private async Task<(Activity Root, HttpStatusCode Status)> PutThroughFrontEndAsync(string key, string value)
    {
        using var http = new HttpClient();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var root = new Activity("test-request").SetIdFormat(ActivityIdFormat.W3C).Start();
            try
            {
                using var response = await http.PutAsync(new Uri(_frontEnd!.Url, "/v1/kv/" + key), new StringContent(value, Encoding.UTF8, "text/plain"));
                if (response.StatusCode != HttpStatusCode.ServiceUnavailable || clock.Elapsed > Deadline)
                {
                    return (root, response.StatusCode);
                }
            }
            finally
            {
                root.Stop();
            }

            await Task.Delay(100); // the owner is still taking its partitions
        }
    }

    /// <summary>The stopped spans of <paramref name="trace"/> once <paramref name="complete"/> holds for them.</summary>
    private async Task<List<Activity>> WaitForSpansAsync(ActivityTraceId trace, Func<List<Activity>, bool> complete)
    {
        List<Activity> spans = [];
        await WaitUntilAsync(
            () =>
            {
                spans = _stopped.Where(a => a.TraceId == trace).ToList();
                return complete(spans);
            },
            $"the spans of trace {trace} did not all end");
        return spans;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string failure)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Deadline, failure);
            await Task.Delay(50);
        }
    }

    private static bool IsUnder(Activity span, Activity ancestor, Dictionary<ActivitySpanId, Activity> byId)
    {
        for (var current = span; byId.TryGetValue(current.ParentSpanId, out var parent); current = parent)
        {
            if (parent == ancestor)
            {
                return true;
            }
        }

        return false;
    }
}
