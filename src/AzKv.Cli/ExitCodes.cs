namespace AzKv.Cli;

/// <summary>Process exit codes of azkv, documented in docs/cli.md.</summary>
internal static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>Any failure not listed below: the server refused the request, could not be reached, a node failed.</summary>
    public const int Error = 1;

    /// <summary>Bad arguments caught by the command itself (System.CommandLine's own parse errors exit with 1).</summary>
    public const int Usage = 2;

    /// <summary>The key does not exist.</summary>
    public const int NotFound = 3;

    /// <summary>--if-match or --create-only did not hold.</summary>
    public const int PreconditionFailed = 4;

    /// <summary>The key has concurrent versions (siblings) to resolve.</summary>
    public const int Siblings = 5;

    /// <summary>The watch cursor expired.</summary>
    public const int CursorExpired = 6;

    /// <summary>A one-shot command was stopped by Ctrl-C / SIGTERM before it finished (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;
}
