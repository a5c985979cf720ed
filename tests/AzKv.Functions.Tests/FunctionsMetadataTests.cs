using System.Text.Json;
using System.Text.RegularExpressions;
using AzKv.Server;
using AzKv.Server.Api;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AzKv.Functions.Tests;

/// <summary>
/// The triggers the Functions SDK generated at build (functions.metadata, what the host reads to route
/// requests) against the routes the node serves and the routes docs/api.md documents.
/// </summary>
public sealed partial class FunctionsMetadataTests
{
    /// <summary>Documented routes a front end does not serve (they act on the receiving node's partitions): see docs/functions.md.</summary>
    private static readonly string[] NodeOnlyRoutes =
    [
        "POST v1/replication/{source}/pause",
        "POST v1/replication/{source}/resume",
        "POST v1/replication/{region}/verify",
        "GET v1/auth/roles",
        "PUT v1/auth/roles/{principal}/{role}",
        "DELETE v1/auth/roles/{principal}/{role}",
    ];

    [Fact]
    public void FunctionsMetadata_WhenBuilt_HasOneAnonymousTriggerPerFrontEndRouteAndNoOther()
    {
        var triggers = ReadTriggers();
        using var host = CreateFrontEndHost();
        var routes = host.Services.GetRequiredService<FrontEndApi>().Routes;

        var expected = routes.SelectMany(r => r.Methods.Select(m => $"{r.Name} {m} {FunctionRoute(r.Pattern)}")).Order(StringComparer.Ordinal).ToList();
        var actual = triggers.Select(t => $"{t.Name} {t.Method} {t.Route}").Order(StringComparer.Ordinal).ToList();

        Assert.Equal(expected, actual);
        Assert.Equal(18, routes.Count); // the ten of the key-value API and health, the console, /v1/auth/me, /v1/audit and the five of /v1/snapshots
        Assert.All(triggers, t => Assert.Equal("Anonymous", t.AuthLevel));
    }

    [Fact]
    public void FunctionsMetadata_WhenBuilt_HasATriggerForEveryRouteDocumentedInTheApi()
    {
        var triggers = ReadTriggers().Select(t => $"{t.Method} {t.Route}").ToHashSet(StringComparer.Ordinal);
        var documented = DocumentedRoutes();

        var missing = documented.Where(r => !triggers.Contains(r) && !NodeOnlyRoutes.Contains(r)).ToList();

        Assert.Contains("GET v1/kv/{*key}", documented);
        Assert.Contains("GET v1/watch", documented);
        Assert.Contains("GET readyz", documented);
        Assert.True(missing.Count == 0, "docs/api.md documents routes without a trigger: " + string.Join(", ", missing));
        Assert.All(NodeOnlyRoutes, r => Assert.Contains(r, documented));
    }

    [Fact]
    public void HostJson_WhenCopiedToTheOutput_HasAnEmptyRoutePrefixAndNoCustomHandler()
    {
        using var hostJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.FunctionsOutput, "host.json")));

        Assert.Equal("2.0", hostJson.RootElement.GetProperty("version").GetString());
        Assert.Equal(string.Empty, hostJson.RootElement.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
        Assert.False(hostJson.RootElement.TryGetProperty("customHandler", out _));
    }

    /// <summary>An ASP.NET Core pattern (<c>/v1/kv/{**key}</c>) as a Functions route (<c>v1/kv/{*key}</c>).</summary>
    private static string FunctionRoute(string pattern) => pattern.TrimStart('/').Replace("{**", "{*", StringComparison.Ordinal);

    private static List<Trigger> ReadTriggers()
    {
        var path = Path.Combine(Repository.FunctionsOutput, "functions.metadata");
        Assert.True(File.Exists(path), $"{path} is missing: build src/AzKv.Functions.");
        using var metadata = JsonDocument.Parse(File.ReadAllText(path));
        var triggers = new List<Trigger>();
        foreach (var function in metadata.RootElement.EnumerateArray())
        {
            var name = function.GetProperty("name").GetString()!;
            Assert.Equal("dotnet-isolated", function.GetProperty("language").GetString());
            var trigger = Assert.Single(function.GetProperty("bindings").EnumerateArray(), b => b.GetProperty("type").GetString() == "httpTrigger");
            foreach (var method in trigger.GetProperty("methods").EnumerateArray())
            {
                triggers.Add(new Trigger(name, method.GetString()!.ToUpperInvariant(), trigger.GetProperty("route").GetString()!, trigger.GetProperty("authLevel").GetString()!));
            }
        }

        return triggers;
    }

    /// <summary><c>METHOD route</c> of every endpoint heading of docs/api.md (<c>### `GET /v1/kv?prefix=…`</c>), as Functions routes.</summary>
    private static List<string> DocumentedRoutes() =>
        [.. Repository.ReadFile("docs/api.md").Split('\n')
            .Where(line => line.StartsWith("### ", StringComparison.Ordinal))
            .SelectMany(line => DocumentedRoute().Matches(line))
            .Select(match => match.Groups["method"].Value + " " + match.Groups["path"].Value.TrimStart('/').Replace("{key}", "{*key}", StringComparison.Ordinal))];

    private static IHost CreateFrontEndHost()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzKv:Region"] = "local",
            ["AzKv:Storage:ConnectionString"] = "UseDevelopmentStorage=true",
        });
        builder.Services.AddAzKvFrontEnd(builder.Configuration);
        return builder.Build();
    }

    private sealed record Trigger(string Name, string Method, string Route, string AuthLevel);

    [GeneratedRegex("`(?<method>GET|PUT|POST|DELETE|PATCH|HEAD) (?<path>/[^`?]*)[^`]*`", RegexOptions.CultureInvariant)]
    private static partial Regex DocumentedRoute();
}
