using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using AzKv.Server.Hosting;
using Microsoft.Extensions.Configuration;

namespace AzKv.Server.Tests.Deployment;

/// <summary>
/// Issue 7's "done when": the deployment templates set every setting a cloud node needs, spelled the
/// way the server reads them. The settings the server understands are derived from
/// <see cref="ServerOptions"/> by reflection (never listed here), the templates' settings are read
/// from the <c>name: 'AzKv__...'</c> entries of the app modules, and the docs, the local sample and
/// the front end's runtime and host.json are checked against the same list.
/// </summary>
public sealed partial class DeploymentTemplateTests
{
    private const string OwnerTemplate = "bicep/modules/ownerApp.bicep";
    private const string FrontEndTemplate = "bicep/modules/functionApp.bicep";

    /// <summary>How a list index appears in a setting name (<c>AzKv__Peers__{i}__Region</c>).</summary>
    private const string ListIndex = "{i}";

    /// <summary>
    /// The settings a cloud node cannot run without, so each app must set them explicitly rather than
    /// fall back to a local default. Each is required for a reason of its own.
    /// </summary>
    private static readonly string[] RequiredInEveryApp =
    [
        // Part of every version vector: the default 'local' would make every region the same region.
        "AzKv__Region",

        // The default 'owner,frontend' would let scale-out front-end instances take partitions, and
        // would make owners accept client traffic they are not sized for.
        "AzKv__Roles",

        // Exactly one of ConnectionString and AccountUrl must be set; the cloud uses Entra ID (no keys).
        "AzKv__Storage__AccountUrl",

        // The apps run as a user-assigned identity only: without its client id the credential cannot
        // pick it, and storage calls fail.
        "AzKv__Storage__ManagedIdentityClientId",

        // Must name the container the template creates, not whatever the server's default is.
        "AzKv__Storage__Container",

        // Every node of every region must agree on it; one template parameter feeds all of them.
        "AzKv__Cluster__PartitionCount",

        // Owners and front ends must agree on how long a lease lasts (ownership, stale-owner checks).
        "AzKv__Partition__LeaseDurationSeconds",

        // The front end rejects (413) and the owner enforces the same limit: one parameter for both.
        "AzKv__Limits__MaxValueBytes",

        // Explicit, so a change of the server's default can neither open nor break a deployment.
        "AzKv__Auth__Mode",
    ];

    /// <summary>Plausible values for settings whose template value is an expression (a deployment would compute them).</summary>
    private static readonly Dictionary<string, string> SampleValues = new(StringComparer.Ordinal)
    {
        ["AzKv__Region"] = "sec",
        ["AzKv__Urls"] = "http://0.0.0.0:8080",
        ["AzKv__AdvertisedUrl"] = "https://azkv-owner-0.example.swedencentral.azurecontainerapps.io",
        ["AzKv__Storage__AccountUrl"] = "https://stsecexample.blob.core.windows.net",
        ["AzKv__Storage__ManagedIdentityClientId"] = "00000000-0000-0000-0000-000000000001",
        ["AzKv__Storage__Container"] = "azkv",
        ["AzKv__Cluster__PartitionCount"] = "32",
        ["AzKv__Partition__LeaseDurationSeconds"] = "30",
        ["AzKv__Limits__MaxValueBytes"] = "1048576",
        ["AzKv__Peers__{i}__Region"] = "weu",
        ["AzKv__Peers__{i}__AccountUrl"] = "https://stweuexample.blob.core.windows.net",
        ["AzKv__Peers__{i}__Container"] = "azkv",
        ["AzKv__Peers__{i}__EventHubsNamespace"] = "evh-azkv-weu-example.servicebus.windows.net",
        ["AzKv__EventHubs__FullyQualifiedNamespace"] = "evh-azkv-sec-example.servicebus.windows.net",
        ["AzKv__Auth__Mode"] = "EntraId",
        ["AzKv__Auth__TenantId"] = "00000000-0000-0000-0000-00000000000a",
        ["AzKv__Auth__Audience"] = "00000000-0000-0000-0000-00000000000b",
        ["AzKv__Auth__AllowedClientIds"] = "00000000-0000-0000-0000-00000000000c,00000000-0000-0000-0000-000000000001",
        ["AzKv__Auth__ConsoleClientId"] = "00000000-0000-0000-0000-00000000000c",
        ["AzKv__Auth__ConsoleScope"] = "api://00000000-0000-0000-0000-00000000000b/user_impersonation",
    };


    public static TheoryData<string> AppTemplates => new() { OwnerTemplate, FrontEndTemplate };

    [Fact]
    public void KnownSettings_WhenDerivedFromServerOptions_IncludeNestedAndListSettingsButNotComputedOnes()
    {
        var known = KnownSettings();

        Assert.Contains("AzKv__Region", known);
        Assert.Contains("AzKv__Storage__Container", known);
        Assert.Contains("AzKv__Auth__Mode", known);
        Assert.Contains("AzKv__Peers__{i}__Region", known);
        Assert.Contains("AzKv__Peers__{i}__Container", known);
        Assert.DoesNotContain("AzKv__Storage", known);
        Assert.DoesNotContain("AzKv__Peers", known);
        Assert.DoesNotContain("AzKv__EffectiveNodeId", known);
        Assert.DoesNotContain("AzKv__RoleList", known);
    }

    [Theory]
    [MemberData(nameof(AppTemplates))]
    public void AppTemplate_WhenSettingsAreRead_EverySettingIsWrittenAsNameAndValue(string template)
    {
        var text = ReadRepositoryFile(template);

        var names = AzKvNameRegex().Matches(text).Count;
        var settings = ReadSettings(template);

        Assert.True(names > 0, $"{template} sets no AzKv__ setting.");
        Assert.Equal(names, settings.Count);
    }

    [Theory]
    [MemberData(nameof(AppTemplates))]
    public void AppTemplate_WhenSettingsAreRead_EveryAzKvSettingIsOneTheServerKnows(string template)
    {
        var known = KnownSettings();

        var unknown = ReadSettings(template).Select(s => s.Name).Where(n => !known.Contains(n)).ToList();

        Assert.True(unknown.Count == 0, $"{template} sets settings the server does not read (typo?): {string.Join(", ", unknown)}.");
    }

    [Theory]
    [MemberData(nameof(AppTemplates))]
    public void AppTemplate_WhenSettingsAreRead_SetsEverySettingACloudNodeNeeds(string template)
    {
        var known = KnownSettings();
        var set = ReadSettings(template).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);

        Assert.All(RequiredInEveryApp, name => Assert.Contains(name, known));
        var missing = RequiredInEveryApp.Where(n => !set.Contains(n)).ToList();
        Assert.True(missing.Count == 0, $"{template} does not set: {string.Join(", ", missing)}.");
    }

    [Theory]
    [MemberData(nameof(AppTemplates))]
    public void AppTemplate_WhenSettingsAreRead_SetsEachSettingOnce(string template)
    {
        var settings = ReadSettings(template);

        var duplicates = settings.GroupBy(s => s.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToList();

        Assert.True(duplicates.Count == 0, $"{template} sets these more than once: {string.Join(", ", duplicates)}.");
    }

    [Fact]
    public void OwnerTemplate_WhenSettingsAreRead_AdvertisesTheAppsOwnHttpsUrl()
    {
        // Other nodes reach an owner at the URL it advertises; the default (the first listening URL,
        // http://0.0.0.0:8080) is reachable from nowhere.
        var advertised = Assert.Single(ReadSettings(OwnerTemplate), s => s.Name == "AzKv__AdvertisedUrl");

        Assert.StartsWith("'https://${name}.", advertised.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void OwnerAndFrontEndTemplates_WhenRolesAreRead_GiveEachAppItsOwnRole()
    {
        Assert.Equal("'owner'", Assert.Single(ReadSettings(OwnerTemplate), s => s.Name == "AzKv__Roles").Value);
        Assert.Equal("'frontend'", Assert.Single(ReadSettings(FrontEndTemplate), s => s.Name == "AzKv__Roles").Value);
    }

    [Theory]
    [MemberData(nameof(AppTemplates))]
    public void AppTemplate_WhenSettingsAreRead_SetsNoConnectionString(string template)
    {
        // No keys in the cloud: storage is reached with the managed identity only.
        var connectionStrings = ReadSettings(template).Select(s => s.Name).Where(n => n.EndsWith("__ConnectionString", StringComparison.Ordinal)).ToList();

        Assert.Empty(connectionStrings);
    }

    [Theory]
    [MemberData(nameof(AppTemplates))]
    public void AppTemplate_WhenAuthModeIsPassed_PassesOnlyValuesTheServerAccepts(string template)
    {
        var mode = Assert.Single(ReadSettings(template), s => s.Name == "AzKv__Auth__Mode");
        var values = PossibleValues(template, mode.Value);

        Assert.NotEmpty(values);
        Assert.All(values, value =>
        {
            var options = new ServerOptions { Storage = { ConnectionString = "UseDevelopmentStorage=true" } };
            options.Auth.Mode = value;

            var errors = options.Validate();

            Assert.DoesNotContain(errors, e => e.Contains("AzKv__Auth__Mode", StringComparison.Ordinal));
        });
    }

    [Theory]
    [InlineData(OwnerTemplate)]
    [InlineData(FrontEndTemplate)]
    public void AppTemplate_WhenItsSettingsAreBoundLikeTheServerDoes_PassesValidation(string template)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var setting in ReadSettings(template))
        {
            var name = setting.Name.Replace(ListIndex, "0", StringComparison.Ordinal);
            values[name.Replace("__", ":", StringComparison.Ordinal)] = ResolveValue(setting);
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var options = new ServerOptions();
        configuration.GetSection(ServerOptions.Section).Bind(options);
        var errors = options.Validate();

        Assert.True(errors.Count == 0, $"{template}: {string.Join(" ", errors)}");
    }

    [Fact]
    public void ConfigurationDoc_WhenTableIsRead_ListsEverySettingTheServerKnowsAndNoOther()
    {
        var documented = DocRowRegex().Matches(ReadRepositoryFile("docs/configuration.md"))
            .Select(m => m.Groups["name"].Value)
            .Where(n => n.StartsWith(ServerOptions.Section + "__", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        var known = KnownSettings();

        var undocumented = known.Where(n => !documented.Contains(n)).ToList();
        var stale = documented.Where(n => !known.Contains(n)).ToList();

        Assert.True(undocumented.Count == 0, $"docs/configuration.md does not list: {string.Join(", ", undocumented)}.");
        Assert.True(stale.Count == 0, $"docs/configuration.md lists settings the server does not read: {string.Join(", ", stale)}.");
    }

    [Fact]
    public void LocalSettingsSample_WhenValuesAreRead_ContainsEveryNonListSetting()
    {
        using var sample = JsonDocument.Parse(ReadRepositoryFile("local.settings.sample.json"));
        var values = sample.RootElement.GetProperty("Values").EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);

        var missing = KnownSettings().Where(n => !n.Contains(ListIndex, StringComparison.Ordinal) && !values.Contains(n)).ToList();

        Assert.True(missing.Count == 0, $"local.settings.sample.json Values lacks: {string.Join(", ", missing)}.");
    }

    [Fact]
    public void FrontEndTemplate_WhenRuntimeIsRead_IsTheIsolatedWorkerOnDotNet10NotACustomHandler()
    {
        var text = ReadRepositoryFile(FrontEndTemplate);

        var runtime = RuntimeRegex().Match(text);

        Assert.True(runtime.Success, $"{FrontEndTemplate} has no functionAppConfig.runtime block.");
        Assert.Equal("dotnet-isolated", runtime.Groups["name"].Value);
        Assert.Equal("10.0", runtime.Groups["version"].Value);
        Assert.Contains("name: 'FC1'", text, StringComparison.Ordinal);
        Assert.DoesNotContain("'custom'", text, StringComparison.Ordinal);
        // Not allowed on Flex Consumption: the runtime comes from functionAppConfig.
        Assert.DoesNotContain("name: 'FUNCTIONS_WORKER_RUNTIME'", text, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(AzKv.Testing.RepositoryFiles.Root, "infra", "functions")), "infra/functions (the custom-handler package) is gone: the Functions project generates host.json and functions.metadata.");
    }

    [Fact]
    public void DeployScript_WhenRead_PublishesTheFunctionsProjectAndDeploysItsZip()
    {
        var script = ReadRepositoryFile("infra/deploy.sh");

        Assert.Contains("src/AzKv.Functions/AzKv.Functions.csproj", script, StringComparison.Ordinal);
        Assert.Contains("dotnet publish \"$repo_root/$functions_project\"", script, StringComparison.Ordinal);
        Assert.Contains("az functionapp deployment source config-zip", script, StringComparison.Ordinal);
        Assert.DoesNotContain("customHandler", script, StringComparison.Ordinal);
    }

    [Fact]
    public void FunctionsHostJson_WhenRead_HasAnEmptyRoutePrefixSoFrontEndUrlsAreANodes()
    {
        // The front end is src/AzKv.Functions (isolated worker); its triggers are checked against the
        // API in tests/AzKv.Functions.Tests. No custom-handler packaging is left.
        using var host = JsonDocument.Parse(ReadRepositoryFile("src/AzKv.Functions/host.json"));

        Assert.Equal(string.Empty, host.RootElement.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
        Assert.False(host.RootElement.TryGetProperty("customHandler", out _));
        Assert.False(File.Exists(Path.Combine(AzKv.Testing.RepositoryFiles.Root, "infra", "functions", "host.json")));
    }

    [Theory]
    [MemberData(nameof(AppTemplates))]
    public void AppTemplate_WhenApiAuthenticationIsEntraId_ValidatesTokensItselfWithTheSharedAudienceAndConsoleSignIn(string template)
    {
        var text = ReadRepositoryFile(template);
        var settings = ReadSettings(template).ToDictionary(s => s.Name, s => s.Value, StringComparer.Ordinal);

        // Front end and owners: the same mode, tenant and audience from the same parameters (main.bicep
        // passes one serverAudience to both), and nothing set in None mode (a console client id there
        // is a startup error).
        Assert.Equal("apiAuthentication", settings["AzKv__Auth__Mode"]);
        Assert.Equal("entraId ? authTenantId : ''", settings["AzKv__Auth__TenantId"]);
        Assert.Equal("entraId ? authAudience : ''", settings["AzKv__Auth__Audience"]);
        Assert.Equal("entraId ? authAllowedClientIds : ''", settings["AzKv__Auth__AllowedClientIds"]);
        Assert.Equal("entraId ? consoleClientId : ''", settings["AzKv__Auth__ConsoleClientId"]);
        Assert.Equal("entraId ? consoleScope : ''", settings["AzKv__Auth__ConsoleScope"]);
        Assert.Contains("var entraId = apiAuthentication == 'EntraId'", text, StringComparison.Ordinal);

        // No App Service Authentication in front: it would refuse the anonymous console page and
        // /console/config.json, and answer 401 without the API's problem+json.
        Assert.DoesNotContain("authsettingsV2", text, StringComparison.Ordinal);
        Assert.Contains("param apiAuthentication string = 'EntraId'", ReadRepositoryFile("bicep/main.bicep"), StringComparison.Ordinal);
    }

    [Fact]
    public void DeployScript_WhenRead_RegistersTheApiWithTheAppRolesTheServerMapsAndTheConsoleAsASpa()
    {
        var script = ReadRepositoryFile("infra/deploy.sh");

        // The role values are the server's (AuthClaims), spelled the same in the app registration.
        foreach (var role in new[] { AzKv.Server.Security.AuthClaims.ReaderRole, AzKv.Server.Security.AuthClaims.WriterRole, AzKv.Server.Security.AuthClaims.AdminRole, AzKv.Server.Security.AuthClaims.NodeRole })
        {
            Assert.Contains($"\"{role}\"", script, StringComparison.Ordinal);
        }

        Assert.Contains("az ad app create", script, StringComparison.Ordinal);
        Assert.Contains("requestedAccessTokenVersion", script, StringComparison.Ordinal);
        Assert.Contains("/console/signin", script, StringComparison.Ordinal);
        Assert.Contains("\\\"spa\\\": {\\\"redirectUris\\\"", script, StringComparison.Ordinal);
        foreach (var parameter in new[] { "authClientId", "consoleClientId", "consoleScope", "authTenantId" })
        {
            Assert.Contains(parameter + "=", script, StringComparison.Ordinal);
            Assert.Contains("param " + parameter + " string", ReadRepositoryFile("bicep/main.bicep"), StringComparison.Ordinal);
        }
    }

    /// <summary>Every setting name the server binds, as environment variables spell them; lists as <c>{i}</c>.</summary>
    private static SortedSet<string> KnownSettings()
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        Collect(typeof(ServerOptions), ServerOptions.Section, names);
        return names;
    }

    private static void Collect(Type type, string prefix, SortedSet<string> names)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            // Computed properties (EffectiveNodeId, RoleList) have no setter: they are not settings.
            if (property.SetMethod is not { IsPublic: true } || property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            var name = $"{prefix}__{property.Name}";
            var propertyType = property.PropertyType;
            if (IsLeaf(propertyType))
            {
                names.Add(name);
            }
            else if (ListElementType(propertyType) is { } element)
            {
                if (IsLeaf(element))
                {
                    names.Add($"{name}__{ListIndex}");
                }
                else
                {
                    Collect(element, $"{name}__{ListIndex}", names);
                }
            }
            else
            {
                Collect(propertyType, name, names);
            }
        }
    }

    private static bool IsLeaf(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        return underlying == typeof(string) || underlying.IsPrimitive || underlying.IsEnum
            || underlying == typeof(decimal) || underlying == typeof(TimeSpan) || underlying == typeof(Uri)
            || underlying == typeof(DateTimeOffset) || underlying == typeof(Guid);
    }

    private static Type? ListElementType(Type type) =>
        type.IsArray
            ? type.GetElementType()
            : type.GetInterfaces().Append(type)
                .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))
                ?.GetGenericArguments()[0];

    /// <summary>The <c>AzKv__</c> settings of an app module; <c>${i}</c> in a name becomes <c>{i}</c>.</summary>
    private static List<TemplateSetting> ReadSettings(string template) =>
        SettingRegex().Matches(ReadRepositoryFile(template))
            .Select(m => new TemplateSetting(
                InterpolationRegex().Replace(m.Groups["name"].Value, ListIndex),
                m.Groups["value"].Value.Trim()))
            .ToList();

    /// <summary>The values a template expression can take: a literal, or a parameter's <c>@allowed</c> list.</summary>
    private static List<string> PossibleValues(string template, string value)
    {
        var literal = LiteralRegex().Match(value);
        if (literal.Success)
        {
            return [literal.Groups["text"].Value];
        }

        Assert.Matches(IdentifierRegex(), value);
        var parameter = Regex.Match(
            ReadRepositoryFile(template),
            $@"@allowed\(\[(?<allowed>[^\]]*)\]\)\s*\r?\nparam {Regex.Escape(value)} string",
            RegexOptions.None,
            TimeSpan.FromSeconds(5));
        Assert.True(parameter.Success, $"{template}: '{value}' is neither a literal nor a parameter with @allowed values.");
        return QuotedRegex().Matches(parameter.Groups["allowed"].Value).Select(m => m.Groups["text"].Value).ToList();
    }

    private static string ResolveValue(TemplateSetting setting)
    {
        var literal = LiteralRegex().Match(setting.Value);
        if (literal.Success)
        {
            return literal.Groups["text"].Value;
        }

        Assert.True(SampleValues.TryGetValue(setting.Name, out var sample), $"No sample value for {setting.Name} (template value {setting.Value}); add one to SampleValues.");
        return sample;
    }

    private static string ReadRepositoryFile(string relativePath) => AzKv.Testing.RepositoryFiles.ReadText(relativePath);

    [GeneratedRegex(@"name:\s*'(?<name>AzKv__[^']*)'\s*\r?\n\s*value:\s*(?<value>[^\r\n]+)")]
    private static partial Regex SettingRegex();

    [GeneratedRegex(@"name:\s*'AzKv__")]
    private static partial Regex AzKvNameRegex();

    [GeneratedRegex(@"\$\{[^}]*\}")]
    private static partial Regex InterpolationRegex();

    [GeneratedRegex(@"^'(?<text>[^'$]*)'$")]
    private static partial Regex LiteralRegex();

    [GeneratedRegex(@"'(?<text>[^']*)'")]
    private static partial Regex QuotedRegex();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex IdentifierRegex();

    [GeneratedRegex(@"^\|\s*`(?<name>[^`]+)`\s*\|", RegexOptions.Multiline)]
    private static partial Regex DocRowRegex();

    [GeneratedRegex(@"runtime:\s*\{[^}]*?name:\s*'(?<name>[^']*)'\s*\r?\n\s*version:\s*'(?<version>[^']*)'")]
    private static partial Regex RuntimeRegex();

    private sealed record TemplateSetting(string Name, string Value);
}
