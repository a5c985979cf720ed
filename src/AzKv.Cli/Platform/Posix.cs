using System.Runtime.InteropServices;

namespace AzKv.Cli.Platform;

/// <summary>The few libc calls process management needs on Linux and macOS (never called on Windows).</summary>
internal static partial class Posix
{
    /// <summary>SIGTERM: ask a process to stop; an AzKv node hands its partitions over, then exits.</summary>
    public const int SigTerm = 15;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; 0 on success, else -1 with errno set.</summary>
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    /// <summary>Makes the calling process the leader of a new session (and process group), away from the terminal.</summary>
    [LibraryImport("libc", EntryPoint = "setsid", SetLastError = true)]
    public static partial int SetSid();

    /// <summary>The parent's process id; it changes when the parent dies and the process is re-parented.</summary>
    [LibraryImport("libc", EntryPoint = "getppid")]
    public static partial int GetParentProcessId();
}
