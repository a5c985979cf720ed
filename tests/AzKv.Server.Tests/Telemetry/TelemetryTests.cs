using AzKv.Server.Hosting;
using Microsoft.Extensions.Configuration;

namespace AzKv.Server.Tests.Telemetry;

/// <summary>The OTLP settings are checked at startup, and a wrong one stops the node with a message naming it.</summary>
public sealed class TelemetryTests
{
    [Theory]
    [InlineData("collector:4317")]
    [InlineData("not a url")]
    [InlineData("ftp://collector:4317")]
    public void Validate_WhenOtlpEndpointIsNotAnHttpUrl_NamesTheSetting(string endpoint)
    {
        var options = ValidOptions();
        options.Telemetry.OtlpEndpoint = endpoint;

        var errors = options.Validate();

        var error = Assert.Single(errors);
        Assert.Contains("AzKv__Telemetry__OtlpEndpoint", error, StringComparison.Ordinal);
        Assert.DoesNotContain(endpoint, error, StringComparison.Ordinal); // an endpoint may carry a token
    }

    [Theory]
    [InlineData("http://localhost:4317")]
    [InlineData("https://collector.example:4318")]
    [InlineData("")]
    public void Validate_WhenOtlpEndpointIsAnHttpUrlOrEmpty_ReportsNothing(string endpoint)
    {
        var options = ValidOptions();
        options.Telemetry.OtlpEndpoint = endpoint;

        Assert.Empty(options.Validate());
    }

    [Fact]
    public void Validate_WhenOtlpProtocolIsUnknown_NamesTheSetting()
    {
        var options = ValidOptions();
        options.Telemetry.OtlpProtocol = "http/json";

        var error = Assert.Single(options.Validate());

        Assert.Contains("AzKv__Telemetry__OtlpProtocol 'http/json'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_WhenStandardOtlpEndpointIsNotAnHttpUrl_NamesTheSetting()
    {
        var configuration = Configuration(("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"));

        var error = Assert.Single(Hosting.Telemetry.Validate(configuration));

        Assert.Contains("OTEL_EXPORTER_OTLP_ENDPOINT", error, StringComparison.Ordinal);
    }

    [Fact]
    public void IsEnabled_WhenEitherEndpointIsSet_IsTrueAndOtherwiseFalse()
    {
        var none = Configuration();
        var standard = Configuration(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4317"));

        Assert.False(Hosting.Telemetry.IsEnabled(new TelemetrySettings(), none));
        Assert.True(Hosting.Telemetry.IsEnabled(new TelemetrySettings(), standard));
        Assert.True(Hosting.Telemetry.IsEnabled(new TelemetrySettings { OtlpEndpoint = "http://localhost:4318" }, none));
    }

    [Theory]
    [InlineData("--AzKv:Telemetry:OtlpEndpoint=localhost:4317")]
    [InlineData("--OTEL_EXPORTER_OTLP_ENDPOINT=localhost:4317")]
    public async Task RunAsync_WhenAnOtlpEndpointIsInvalid_ExitsWithTheConfigurationErrorBeforeTouchingStorage(string argument)
    {
        // Storage points at a port nothing listens on: validation must stop the node first.
        string[] args =
        [
            "--AzKv:Storage:ConnectionString=DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1",
            "--AzKv:Urls=http://127.0.0.1:0",
            argument,
        ];

        var exitCode = await ServerApp.RunAsync(args, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(ServerApp.ConfigurationError, exitCode);
    }

    private static ServerOptions ValidOptions() => new() { Storage = { ConnectionString = "UseDevelopmentStorage=true" } };

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
}
