namespace AzKv.Server;

/// <summary>Entry point of an AzKv node, shared by the server executable and <c>azkv serve</c>.</summary>
public static partial class ServerApp
{
    /// <summary>
    /// Runs a node until <paramref name="cancellationToken"/> fires or the process is asked to stop
    /// (SIGTERM / Ctrl-C), handing its partitions over before it exits. Returns the exit code:
    /// 0 after a clean stop, 2 when the configuration is invalid (the message names the setting).
    /// </summary>
    public static Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        return RunCoreAsync(args, null, cancellationToken);
    }

    /// <summary>As <see cref="RunAsync(string[], CancellationToken)"/>, with a last look at the builder (tests add a log sink).</summary>
    internal static Task<int> RunAsync(string[] args, Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        return RunCoreAsync(args, configure, cancellationToken);
    }
}
