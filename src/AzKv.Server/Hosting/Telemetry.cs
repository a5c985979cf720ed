using AzKv.Partitions;
using AzKv.Server.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AzKv.Server.Hosting;

/// <summary>
/// OpenTelemetry for a node (docs/observability.md): traces, metrics and logs exported over OTLP
/// when an endpoint is configured (<c>AzKv__Telemetry__OtlpEndpoint</c> or the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>); nothing is registered otherwise.
/// </summary>
/// <remarks>
/// Traces: ASP.NET Core (server spans, W3C <c>traceparent</c> read from the request), HttpClient
/// (client spans; it writes <c>traceparent</c> on forwarded requests and storage calls), the Azure
/// SDK's sources (<c>Azure.*</c>) and the engine's (<c>AzKv.Engine</c>: one span per group-commit
/// append). Metrics: the <c>AzKv.Engine</c> and <c>AzKv.Server</c> meters, the same instruments
/// <c>/metrics</c> serves. Logs: every <c>ILogger</c> record with its event id.
/// </remarks>
internal static class Telemetry
{
    /// <summary>The standard OTLP endpoint setting (environment variable or configuration key).</summary>
    public const string StandardEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// Azure.Core creates its spans through <c>ActivitySource</c> only with this switch on (still
    /// "experimental" in Azure.Core 1.53–1.65; the environment variable
    /// <c>AZURE_EXPERIMENTAL_ENABLE_ACTIVITY_SOURCE=true</c> does the same).
    /// </summary>
    public const string AzureActivitySourceSwitch = "Azure.Experimental.EnableActivitySource";

    /// <summary>Asks the OTLP log exporter to send each record's event id and name as attributes.</summary>
    private const string EmitEventIdsSetting = "OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EVENT_LOG_ATTRIBUTES";

    /// <summary>The service name every node reports (<c>service.name</c>); nodes differ by <c>service.instance.id</c>.</summary>
    public const string ServiceName = "azkv";

    /// <summary>The activity sources traced besides ASP.NET Core and HttpClient.</summary>
    public static readonly IReadOnlyList<string> ActivitySources = [PartitionTracing.SourceName, "Azure.*"];

    /// <summary>The meters exported (the same ones <c>/metrics</c> serves).</summary>
    public static readonly IReadOnlyList<string> MeterNames = [PartitionMetrics.MeterName, ServerMetrics.MeterName];

    /// <summary>Problems with the standard OTLP settings, each naming its setting (the AzKv ones are checked by <see cref="ServerOptions.Validate"/>).</summary>
    public static IReadOnlyList<string> Validate(IConfiguration configuration)
    {
        var errors = new List<string>();
        var standard = configuration[StandardEndpointSetting];
        if (!string.IsNullOrWhiteSpace(standard) && !TelemetrySettings.IsHttpUrl(standard))
        {
            errors.Add($"{StandardEndpointSetting} is not an absolute http(s) URL (e.g. http://localhost:4317); leave it unset to export nothing.");
        }

        return errors;
    }

    /// <summary>True when an OTLP endpoint is configured.</summary>
    public static bool IsEnabled(TelemetrySettings settings, IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(settings.OtlpEndpoint) || !string.IsNullOrWhiteSpace(configuration[StandardEndpointSetting]);

    /// <summary>Registers OpenTelemetry when an endpoint is configured; call before any Azure client is created.</summary>
    /// <remarks>Used by the Kestrel node and the Functions front end alike.</remarks>
    public static void Add(IServiceCollection services, IConfiguration configuration, ServerOptions options)
    {
        if (!IsEnabled(options.Telemetry, configuration))
        {
            return;
        }

        AppContext.SetSwitch(AzureActivitySourceSwitch, true);
        if (configuration[EmitEventIdsSetting] is null && configuration is IConfigurationBuilder builder)
        {
            builder.AddInMemoryCollection([new(EmitEventIdsSetting, "true")]);
        }

        var otel = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource
                .AddService(ServiceName, serviceInstanceId: options.EffectiveNodeId)
                .AddAttributes(
                [
                    new("azkv.region", options.Region),
                    new("azkv.roles", options.Roles),
                ]))
            .WithTracing(tracing => tracing
                .AddSource([.. ActivitySources])
                .AddAspNetCoreInstrumentation(aspNet => aspNet.Filter = IsTraced)
                .AddHttpClientInstrumentation())
            .WithMetrics(metrics => metrics.AddMeter([.. MeterNames]));

        if (!string.IsNullOrWhiteSpace(options.Telemetry.OtlpEndpoint))
        {
            var protocol = options.Telemetry.OtlpProtocol == "http/protobuf" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
            otel.UseOtlpExporter(protocol, new Uri(options.Telemetry.OtlpEndpoint));
        }
        else
        {
            // The standard OTEL_EXPORTER_OTLP_* settings (endpoint, protocol, headers) configure it.
            otel.UseOtlpExporter();
        }
    }

    /// <summary>Probes and scrapes are not traced: they would outnumber the requests.</summary>
    internal static bool IsTraced(HttpContext context)
    {
        var path = context.Request.Path;
        return !(path.StartsWithSegments("/healthz", StringComparison.Ordinal)
            || path.StartsWithSegments("/readyz", StringComparison.Ordinal)
            || path.StartsWithSegments("/metrics", StringComparison.Ordinal));
    }
}
