using AzKv.Server.Api;
using AzKv.Server.Audit;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AzKv.Server.Security;

/// <summary>
/// The check in front of every API endpoint (docs/security.md, "Who may call what"): it runs inside
/// the endpoint, so the Kestrel node and the Functions front end apply the same rules. An endpoint
/// the table does not know needs an unscoped admin.
/// </summary>
internal static partial class AccessFilter
{
    /// <summary>What an endpoint needs.</summary>
    internal enum Rule
    {
        /// <summary>Nothing: health probes.</summary>
        Anonymous,

        /// <summary>A token if one is sent; answers for anonymous callers too (<c>/v1/auth/me</c>).</summary>
        Optional,

        /// <summary>Reader of the key in the path.</summary>
        ReadKey,

        /// <summary>Writer of the key in the path.</summary>
        WriteKey,

        /// <summary>Reader of every key under the <c>prefix</c> query parameter (refused, not filtered, otherwise).</summary>
        ReadPrefix,

        /// <summary>Reader of any key: cluster status.</summary>
        ReadAny,

        /// <summary>Admin over every key.</summary>
        Admin,

        /// <summary>A node identity: node-to-node endpoints.</summary>
        Node,

        /// <summary>Admin of every key under the <c>prefix</c> query parameter: the audit log.</summary>
        AdminPrefix,

        /// <summary>
        /// A writer of some key: creating or deleting a snapshot, whose endpoint then checks the writer role over every
        /// filter prefix (they are in the body or the stored snapshot, not the query).
        /// </summary>
        WriteAny,

        /// <summary><c>/metrics</c>: anonymous when <c>AzKv__Auth__AnonymousMetrics</c>, else reader of any key.</summary>
        Metrics,
    }

    /// <summary>The rule of an endpoint, by its name (or its path for the unnamed internal ones).</summary>
    internal static Rule RuleFor(string? endpointName, string? pattern) => endpointName switch
    {
        ApiEndpointNames.Health or ApiEndpointNames.Ready => Rule.Anonymous,
        ApiEndpointNames.Metrics => Rule.Metrics,
        ApiEndpointNames.GetKey => Rule.ReadKey,
        ApiEndpointNames.PutKey or ApiEndpointNames.DeleteKey => Rule.WriteKey,
        ApiEndpointNames.ListKeys or ApiEndpointNames.Watch or ApiEndpointNames.Conflicts => Rule.ReadPrefix,
        ApiEndpointNames.Cluster => Rule.ReadAny,
        ApiEndpointNames.ListSnapshots or ApiEndpointNames.GetSnapshot or ApiEndpointNames.GetSnapshotItems => Rule.ReadAny,
        ApiEndpointNames.CreateSnapshot or ApiEndpointNames.DeleteSnapshot => Rule.WriteAny,
        ApiEndpointNames.Audit => Rule.AdminPrefix,
        ApiEndpointNames.PauseReplication or ApiEndpointNames.ResumeReplication or ApiEndpointNames.VerifyReplication => Rule.Admin,
        ApiEndpointNames.ListRoles or ApiEndpointNames.AssignRole or ApiEndpointNames.RemoveRole => Rule.Admin,
        ApiEndpointNames.AuthMe => Rule.Optional,
        _ when pattern is not null && pattern.StartsWith("/v1/internal/", StringComparison.Ordinal) => Rule.Node,
        _ => Rule.Admin,
    };

    /// <summary>The endpoint filter: authenticate, rate-limit, authorize, then run the endpoint.</summary>
    /// <remarks>
    /// Not an async method: when the check completes at once and allows the request (always when
    /// access control is off), the endpoint's own task is returned as it is, without a state machine
    /// of the filter's per request.
    /// </remarks>
    public static ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var endpoint = context.GetEndpoint();
        var rule = RuleFor(endpoint?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName, (endpoint as RouteEndpoint)?.RoutePattern.RawText);
        var check = CheckAsync(context, rule);
        if (check.IsCompletedSuccessfully && check.Result is null)
        {
            return next(invocation);
        }

        return AwaitCheckAsync(check, invocation, next);
    }

    private static async ValueTask<object?> AwaitCheckAsync(Task<IResult?> check, EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var denial = await check.ConfigureAwait(false);
        return denial ?? await next(invocation).ConfigureAwait(false);
    }

    /// <summary>Null when the request may go on; else the 401/403/429 problem to answer.</summary>
    internal static async Task<IResult?> CheckAsync(HttpContext context, Rule rule)
    {
        var access = context.RequestServices.GetRequiredService<AccessControl>();
        if (rule == Rule.Anonymous || (rule == Rule.Metrics && access.Settings.AnonymousMetrics) || !access.Enabled)
        {
            return null;
        }

        var (principal, failure) = await access.AuthenticateAsync(context).ConfigureAwait(false);
        var log = context.RequestServices.GetService<ILoggerFactory>()?.CreateLogger("AzKv.Server.Security");
        if (principal is null)
        {
            if (rule == Rule.Optional && failure is null)
            {
                return null;
            }

            if (log is not null)
            {
                LogUnauthenticated(log, context.Request.Method, context.Request.Path.Value ?? string.Empty, failure ?? "no token");
            }

            RecordDenial(context, rule, null, AuditOutcomes.Unauthenticated);
            return Problems.Unauthenticated(failure);
        }

        if (!access.TryAcquire(principal, out var retryAfter))
        {
            RecordDenial(context, rule, principal, AuditOutcomes.RateLimited);
            return Problems.RateLimited(retryAfter);
        }

        var allowed = rule switch
        {
            Rule.Optional => true,
            Rule.Node => principal.IsNode,
            Rule.Admin => principal.HasUnscopedRole(AccessRole.Admin),
            Rule.ReadAny or Rule.Metrics => principal.HasRole(AccessRole.Reader),
            Rule.WriteAny => principal.HasRole(AccessRole.Writer),
            Rule.ReadPrefix => principal.CanAccessPrefix(AccessRole.Reader, context.Request.Query["prefix"].ToString()),
            Rule.AdminPrefix => principal.CanAccessPrefix(AccessRole.Admin, context.Request.Query["prefix"].ToString()),
            Rule.ReadKey => KeyPath.TryGetKey(context, out _) is { } key ? principal.CanAccessKey(AccessRole.Reader, key) : principal.HasUnscopedRole(AccessRole.Reader),
            Rule.WriteKey => KeyPath.TryGetKey(context, out _) is { } key ? principal.CanAccessKey(AccessRole.Writer, key) : principal.HasUnscopedRole(AccessRole.Writer),
            _ => false,
        };
        if (allowed)
        {
            return null;
        }

        if (log is not null)
        {
            LogForbidden(log, principal.Subject ?? "(none)", context.Request.Method, context.Request.Path.Value ?? string.Empty);
        }

        RecordDenial(context, rule, principal, AuditOutcomes.Forbidden);
        return Problems.Forbidden(rule switch
        {
            Rule.Node => "Only AzKv nodes may call the internal endpoints.",
            Rule.Admin => "This needs the admin role over every key.",
            Rule.WriteKey => "This needs the writer role over this key.",
            Rule.ReadPrefix => "This needs the reader role over every key under the prefix; list or watch a prefix inside your grants.",
            Rule.AdminPrefix => "The audit log needs the admin role over every key under the prefix.",
            Rule.WriteAny => "This needs the writer role.",
            _ => "This needs the reader role.",
        });
    }

    /// <summary>Records a refused request in the audit log: the caller (never its token), the operation and its key or prefix.</summary>
    private static void RecordDenial(HttpContext context, Rule rule, AccessPrincipal? principal, string outcome)
    {
        if (context.RequestServices.GetService<AuditLog>() is not { } audit)
        {
            return;
        }

        var name = context.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName;
        string? key = rule switch
        {
            Rule.ReadKey or Rule.WriteKey => KeyPath.TryGetKey(context, out _),
            Rule.ReadPrefix or Rule.AdminPrefix => context.Request.Query["prefix"].ToString(),
            _ => null,
        };
        audit.Record(principal?.Subject, principal?.ClientId, AuditOperations.For(name, context.Request.Path.Value), key, outcome);
    }

    [LoggerMessage(EventId = 1601, Level = LogLevel.Information, Message = "Unauthenticated {Method} {Path}: {Reason}")]
    private static partial void LogUnauthenticated(ILogger logger, string method, string path, string reason);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Information, Message = "Forbidden {Method} {Path} for {Subject}")]
    private static partial void LogForbidden(ILogger logger, string subject, string method, string path);
}
