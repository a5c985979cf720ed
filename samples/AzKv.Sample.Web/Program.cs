using AzKv.Sample.Web;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;

var builder = WebApplication.CreateBuilder(args);

// Settings under sample/ (sample/Greeting → "Greeting") and every feature flag, kept current from
// the watch stream. AzKv:Url may list several nodes, comma-separated, preferred first.
var endpoints = (builder.Configuration["AzKv:Url"] ?? "http://127.0.0.1:8080")
    .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
    .Select(url => new Uri(url))
    .ToArray();
builder.Configuration.AddAzKv(o =>
{
    o.Connect(endpoints).Select("sample/").UseFeatureFlags();
    o.LoggerFactory = LoggerFactory.Create(logging => logging.AddSimpleConsole(console => console.SingleLine = true));
    o.Optional = true; // a sample should start even before `azkv up`; it picks the keys up once AzKv answers
});

builder.Services.Configure<GreetingOptions>(builder.Configuration);
builder.Services.AddFeatureManagement();

var app = builder.Build();

// IOptionsMonitor and IFeatureManager both follow the configuration's reload token: no restart.
app.MapGet("/", async (IOptionsMonitor<GreetingOptions> options, IFeatureManager features) =>
{
    var current = options.CurrentValue;
    var beta = await features.IsEnabledAsync("Beta");
    return Results.Text(
        $"{current.Greeting}, {current.Audience.Name}!\nBeta is {(beta ? "on" : "off")}.\n",
        "text/plain; charset=utf-8");
});

app.MapGet("/config", (IConfiguration configuration) =>
    Results.Json(configuration.AsEnumerable()
        .Where(e => e.Value is not null && (e.Key.StartsWith("Greeting", StringComparison.Ordinal) || e.Key.StartsWith("Audience", StringComparison.Ordinal) || e.Key.StartsWith("feature_management", StringComparison.Ordinal)))
        .OrderBy(e => e.Key, StringComparer.Ordinal)
        .ToDictionary(e => e.Key, e => e.Value)));

app.Run();
