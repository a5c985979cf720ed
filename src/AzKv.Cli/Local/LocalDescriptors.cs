using System.Text.Json;
using AzKv.Client.Auth;

namespace AzKv.Cli.Local;

/// <summary>
/// One description per node address of a running <c>azkv up</c>, in <c>~/.azkv/local/&lt;host&gt;-&lt;port&gt;.json</c>
/// (<see cref="AmbientToken.DescriptorPath"/>): the admin token's file, the signing key's, and the CA to trust with
/// <c>--https</c>, so the CLI, the client and the configuration provider find them by themselves. Written when the
/// nodes start, removed when <c>up</c> stops; a run with nothing to describe removes what an earlier run left.
/// </summary>
internal sealed class LocalDescriptors
{
    private readonly List<string> _written = [];

    /// <summary>Describes <paramref name="urls"/>; with nothing to describe, forgets them.</summary>
    public void Write(IEnumerable<Uri> urls, string? tokenFile, string? signingKeyFile, string? caFile)
    {
        if (tokenFile is null && signingKeyFile is null && caFile is null)
        {
            Forget(urls);
            return;
        }

        var json = JsonSerializer.Serialize(new Dictionary<string, string?> { ["tokenFile"] = tokenFile, ["signingKeyFile"] = signingKeyFile, ["caFile"] = caFile });
        foreach (var url in urls)
        {
            var path = AmbientToken.DescriptorPath(url);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            LocalAuth.WritePrivate(path, json);
            _written.Add(path);
        }
    }

    /// <summary>Removes the descriptions of <paramref name="urls"/>.</summary>
    public static void Forget(IEnumerable<Uri> urls)
    {
        foreach (var url in urls)
        {
            TryDelete(AmbientToken.DescriptorPath(url));
        }
    }

    /// <summary>Removes the descriptions this run wrote.</summary>
    public void Withdraw()
    {
        foreach (var path in _written)
        {
            TryDelete(path);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A description left behind names files of a stopped run: the next up replaces it.
        }
    }
}
