using AzKv.Testing.Azurite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AzKv.Server.Tests.Telemetry;

/// <summary>
/// ASP.NET Core's hosting diagnostics start an Activity and a logging scope for every request while
/// their logger category is enabled at any level (issue 18: one Activity, one scope and a changed
/// ExecutionContext per put). The node turns the category off by default; a setting turns it back on.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class HostingDiagnosticsTests(AzuriteFixture azurite)
{
    private const string Category = "Microsoft.AspNetCore.Hosting.Diagnostics";

    [Fact]
    public async Task RunAsync_WhenHostingDiagnosticsLevelIsNotSet_DisablesTheCategory()
    {
        var capture = new ServicesCapture();
        await using (await ServerProcess.StartAsync(azurite, "hostdiag-default", 1, capture.Register))
        {
            var logger = capture.LoggerFactory!.CreateLogger(Category);

            Assert.False(logger.IsEnabled(LogLevel.Critical));
        }
    }

    [Fact]
    public async Task RunAsync_WhenHostingDiagnosticsLevelIsSet_UsesIt()
    {
        var capture = new ServicesCapture();
        await using (await ServerProcess.StartAsync(azurite, "hostdiag-set", 1, capture.Register, $"--Logging:LogLevel:{Category}=Information"))
        {
            var logger = capture.LoggerFactory!.CreateLogger(Category);

            Assert.True(logger.IsEnabled(LogLevel.Information));
        }
    }

    /// <summary>Keeps the node's logger factory, taken when its pipeline is built.</summary>
    private sealed class ServicesCapture : IStartupFilter
    {
        public ILoggerFactory? LoggerFactory { get; private set; }

        public void Register(WebApplicationBuilder builder) => builder.Services.AddSingleton<IStartupFilter>(this);

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            LoggerFactory = app.ApplicationServices.GetRequiredService<ILoggerFactory>();
            next(app);
        };
    }
}
