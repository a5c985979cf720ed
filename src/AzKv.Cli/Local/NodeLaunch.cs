using System.Diagnostics;
using System.Globalization;

namespace AzKv.Cli.Local;

/// <summary>How <c>azkv up</c> starts a node: this same CLI, as a child process, with <c>serve</c> and the node's settings.</summary>
internal static class NodeLaunch
{
    /// <summary>Set in a node's environment to <c>up</c>'s process id: the node stops when <c>up</c> is gone.</summary>
    public const string ParentVariable = "AZKV_UP_PARENT_PID";

    /// <summary>What one node is told.</summary>
    /// <param name="Region">The region id.</param>
    /// <param name="NodeId">The node id, <c>node-&lt;i&gt;</c>.</param>
    /// <param name="Url">Where it listens and what it advertises.</param>
    /// <param name="StorageConnectionString">Azurite's connection string (the public development key).</param>
    /// <param name="PartitionCount">Partitions when the cluster is first created.</param>
    /// <param name="Peers">The other regions to replicate from: region id and its storage's connection string.</param>
    /// <param name="Roles">The node's roles (<c>AzKv__Roles</c>); null keeps the server's default, owner and front end.</param>
    /// <param name="EventHubsConnectionString">The Event Hubs namespace every region publishes to and reads from (the local stand-in), or null: blob tail.</param>
    /// <param name="SigningKeyFile">The local issuer's key (auth in Local mode); null runs the node without authentication.</param>
    /// <param name="Tls">The certificate, key and CA of <c>--https</c>; null: plain http.</param>
    public sealed record NodeSettings(
        string Region, string NodeId, Uri Url, string StorageConnectionString, int PartitionCount, IReadOnlyList<KeyValuePair<string, string>>? Peers = null, string? Roles = null,
        string? EventHubsConnectionString = null, string? SigningKeyFile = null, AzKv.Local.LocalTlsFiles? Tls = null)
    {
        /// <summary>Never prints the connection string.</summary>
        public override string ToString() => $"{NodeId} ({Region}) at {Url}";
    }

    /// <summary>The node's URL: <c>http(s)://127.0.0.1:&lt;basePort + index - 1&gt;</c> for the 1-based <paramref name="index"/>.</summary>
    public static Uri NodeUrl(int basePort, int index, bool https = false) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{(https ? "https" : "http")}://127.0.0.1:{basePort + index - 1}"));

    /// <summary>The server settings on the command line, in <c>--AzKv:Name=value</c> form (docs/configuration.md).</summary>
    public static IReadOnlyList<string> ServerArguments(NodeSettings node)
    {
        var url = node.Url.GetLeftPart(UriPartial.Authority);
        return
        [
            "--AzKv:Region=" + node.Region,
            "--AzKv:NodeId=" + node.NodeId,
            "--AzKv:Urls=" + url,
            "--AzKv:AdvertisedUrl=" + url,
            "--AzKv:Storage:ConnectionString=" + node.StorageConnectionString,
            "--AzKv:Cluster:PartitionCount=" + node.PartitionCount.ToString(CultureInfo.InvariantCulture),

            // The node logs go to a file; ASP.NET's per-request lines (and up's /readyz polling)
            // would bury AzKv's own.
            "--Logging:LogLevel:Microsoft.AspNetCore=Warning",
            .. node.Roles is null ? Array.Empty<string>() : ["--AzKv:Roles=" + node.Roles],
            .. node.EventHubsConnectionString is null ? Array.Empty<string>() : ["--AzKv:EventHubs:ConnectionString=" + node.EventHubsConnectionString],
            .. node.SigningKeyFile is null
                ? ["--AzKv:Auth:Mode=None"]
                : new[] { "--AzKv:Auth:Mode=Local", "--AzKv:Auth:SigningKeyFile=" + node.SigningKeyFile },
            .. node.Tls is null
                ? Array.Empty<string>()
                : ["--AzKv:Tls:CertificateFile=" + node.Tls.CertificateFile, "--AzKv:Tls:KeyFile=" + node.Tls.KeyFile, "--AzKv:Tls:CaFile=" + node.Tls.CaCertificateFile],
            .. (node.Peers ?? []).SelectMany((peer, i) => new[]
            {
                string.Create(CultureInfo.InvariantCulture, $"--AzKv:Peers:{i}:Region={peer.Key}"),
                string.Create(CultureInfo.InvariantCulture, $"--AzKv:Peers:{i}:ConnectionString={peer.Value}"),
            }),
        ];
    }

    /// <summary>
    /// The local storage account of region <paramref name="index"/> (1-based) when several regions
    /// share one Azurite: <c>azkvregion&lt;i&gt;</c> with a key derived from the name (stable across
    /// runs, so <c>--data</c> keeps working; Azurite is local and loopback-only).
    /// </summary>
    public static KeyValuePair<string, string> RegionAccount(int index)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"azkvregion{index}");
        var key = Convert.ToBase64String(System.Security.Cryptography.SHA512.HashData(System.Text.Encoding.UTF8.GetBytes("azkv-local-" + name)));
        return new(name, key);
    }

    /// <summary>
    /// The start info of a child running this CLI's <c>serve</c>: under the <c>dotnet</c> host
    /// (<c>dotnet azkv.dll</c>) it is <c>dotnet &lt;this assembly&gt; serve ...</c>, else
    /// <c>&lt;this executable&gt; serve ...</c>.
    /// </summary>
    public static ProcessStartInfo CreateStartInfo(string processPath, string assemblyPath, IReadOnlyList<string> serverArguments)
    {
        var startInfo = new ProcessStartInfo(processPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (IsDotnetHost(processPath))
        {
            startInfo.ArgumentList.Add(assemblyPath);
        }

        startInfo.ArgumentList.Add("serve");
        foreach (var argument in serverArguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment[ParentVariable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        return startInfo;
    }

    /// <summary>True when <paramref name="processPath"/> is the <c>dotnet</c> muxer rather than an app host.</summary>
    public static bool IsDotnetHost(string processPath) =>
        string.Equals(Path.GetFileNameWithoutExtension(processPath), "dotnet", StringComparison.OrdinalIgnoreCase);

    /// <summary>The id of the <c>azkv up</c> that started this process, when it is a node of one.</summary>
    public static int? GetParentProcessId() =>
        int.TryParse(Environment.GetEnvironmentVariable(ParentVariable), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0
            ? pid
            : null;
}
