using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AzKv.Server.Metrics;

/// <summary>HTTP instruments (meter <c>AzKv.Server</c>), tagged by route and status.</summary>
internal static class ServerMetrics
{
    public const string MeterName = "AzKv.Server";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Requests = Meter.CreateCounter<long>(
        "azkv.http.requests", "{request}", "HTTP requests by route and status.");

    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(
        "azkv.http.request.duration", "ms", "HTTP request duration by route and status.");

    /// <summary>Status codes 100–599 boxed once: a tag value is an object, and boxing per request allocates.</summary>
    private static readonly object[] StatusObjects = CreateStatusObjects();

    /// <summary>Middleware recording every request.</summary>
    public static async Task RecordAsync(HttpContext context, RequestDelegate next)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            var tags = new TagList
            {
                { "route", route },
                { "method", context.Request.Method },
                { "status", BoxedStatus(context.Response.StatusCode) },
            };
            Requests.Add(1, tags);
            Duration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, tags);
        }
    }

    private static object BoxedStatus(int status) =>
        status is >= 100 and < 600 ? StatusObjects[status - 100] : status;

    private static object[] CreateStatusObjects()
    {
        var objects = new object[500];
        for (var i = 0; i < objects.Length; i++)
        {
            objects[i] = i + 100;
        }

        return objects;
    }
}
