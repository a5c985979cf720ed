using System.CommandLine;
using AzKv.Client;

namespace AzKv.Cli.Client;

/// <summary>The global <c>--url</c> option and how client commands build an <see cref="AzKvClient"/> from it.</summary>
internal static class ClientOptions
{
    /// <summary>The environment variable that sets the default of <c>--url</c>.</summary>
    public const string UrlVariable = "AZKV_URL";

    /// <summary>Where a node of <c>azkv up</c> listens by default.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    public static Option<string> Url { get; } = new("--url")
    {
        Description = $"Base URL of an AzKv node; several, comma-separated, in order of preference. Default: ${UrlVariable}, else {DefaultUrl}.",
        Recursive = true,
        DefaultValueFactory = _ => DefaultUrlFromEnvironment(),
        HelpName = "url",
    };

    public static Option<string?> CaFile { get; } = new("--ca-file")
    {
        Description = "PEM file of the CA certificates to trust for https URLs instead of the machine's store. Default: $AZKV_CA_FILE, else the CA of a local `azkv up --https` at --url.",
        Recursive = true,
        HelpName = "file",
    };

    /// <summary>The CA file to trust: <c>--ca-file</c>, else what the client finds by itself (<c>AZKV_CA_FILE</c>, a local <c>up --https</c>).</summary>
    public static string? CaFileOrAmbient(ParseResult parseResult, IReadOnlyList<Uri> endpoints) =>
        parseResult.GetValue(CaFile) is { Length: > 0 } given ? given : AzKv.Client.Auth.AmbientToken.FindCaFile(endpoints);

    /// <summary>The default URL: <c>AZKV_URL</c> when set, else the first node of <c>azkv up</c>.</summary>
    public static string DefaultUrlFromEnvironment() =>
        Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultUrl;

    /// <summary>Parses the comma-separated list of <c>--url</c>.</summary>
    /// <exception cref="ArgumentException">A URL is not an absolute http or https URL.</exception>
    public static IReadOnlyList<Uri> ParseEndpoints(string value)
    {
        var endpoints = new List<Uri>();
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(part, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"--url: '{part}' is not an absolute http or https URL (e.g. {DefaultUrl}).");
            }

            endpoints.Add(uri);
        }

        return endpoints.Count > 0 ? endpoints : throw new ArgumentException($"--url is empty; give a node's URL, e.g. {DefaultUrl}.");
    }

    /// <summary>A client for a one-shot command: fails fast (two quick retries) so a typo in --url does not hang.</summary>
    public static AzKvClient CreateClient(IReadOnlyList<Uri> endpoints, bool forWatch = false, string? caFile = null) => new(new AzKvClientOptions
    {
        Endpoints = endpoints,
        CaFile = caFile,
        RequestTimeout = TimeSpan.FromSeconds(30),
        MaxRetries = 2,
        InitialBackoff = TimeSpan.FromMilliseconds(200),
        MaxBackoff = forWatch ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(2),
    });
}
