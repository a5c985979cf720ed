using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using AzKv.Cli.Local;
using AzKv.Cli.Platform;
using AzKv.Server;

namespace AzKv.Cli.Commands;

/// <summary>
/// <c>azkv serve [server args...]</c> (hidden): runs one node in this process. The arguments go
/// to the server as they are (<c>--AzKv:Region=local</c>, see docs/configuration.md); the node
/// stops on SIGTERM / Ctrl-C, handing its partitions over. <c>azkv up</c> starts its nodes this way.
/// </summary>
internal static class ServeCommand
{
    /// <summary>How often a node of <c>azkv up</c> checks that <c>up</c> is still there.</summary>
    private static readonly TimeSpan ParentCheckInterval = TimeSpan.FromSeconds(1);

    public static Command Create()
    {
        var command = new Command("serve", "Run one AzKv node in this process (advanced; `azkv up` is the easy way). Arguments are server settings such as --AzKv:Region=local.")
        {
            Hidden = true,
            TreatUnmatchedTokensAsErrors = false,
        };

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var args = parseResult.UnmatchedTokens.ToArray();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task? watchdog = null;
            if (NodeLaunch.GetParentProcessId() is { } parent)
            {
                DetachFromTerminal();
                watchdog = StopWhenParentExitsAsync(parent, stop);
            }

            try
            {
                // The server handles SIGTERM / Ctrl-C itself (graceful handover).
                return await ServerApp.RunAsync(args, stop.Token).ConfigureAwait(false);
            }
            finally
            {
                await stop.CancelAsync().ConfigureAwait(false);
                if (watchdog is not null)
                {
                    await watchdog.ConfigureAwait(false);
                }
            }
        });
        return command;
    }

    /// <summary>
    /// A node of <c>azkv up</c> leaves the terminal's process group, so Ctrl-C reaches only
    /// <c>up</c>, which then stops the nodes in order (storage still running while they hand over).
    /// </summary>
    private static void DetachFromTerminal()
    {
        if (!OperatingSystem.IsWindows())
        {
            // Fails (harmlessly) only when this process already leads a group.
            _ = Posix.SetSid();
        }
    }

    /// <summary>Stops the node when <c>azkv up</c> is gone (killed), so no node outlives it.</summary>
    private static async Task StopWhenParentExitsAsync(int parentId, CancellationTokenSource stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (!IsParentAlive(parentId))
                {
                    await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"azkv serve: the parent process {parentId} (azkv up) is gone; stopping.")).ConfigureAwait(false);
                    await stop.CancelAsync().ConfigureAwait(false);
                    return;
                }

                await Task.Delay(ParentCheckInterval, stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The node stopped on its own.
        }
    }

    private static bool IsParentAlive(int parentId)
    {
        if (!OperatingSystem.IsWindows())
        {
            // Re-parented (to init or a subreaper) once the parent exits.
            return Posix.GetParentProcessId() == parentId;
        }

        try
        {
            using var parent = Process.GetProcessById(parentId);
            return !parent.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
