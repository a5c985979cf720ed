namespace AzKv.Local;

/// <summary>How to start a local Azurite blob service.</summary>
public sealed class AzuriteOptions
{
    /// <summary>The well-known development account name (the same in every Azurite).</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>The well-known development account key. Public by design: it only opens local emulators.</summary>
    public const string DevelopmentAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>
    /// The folder holding package.json and package-lock.json that pin Azurite (infra/azurite).
    /// Null: found by walking up from the current directory and from the application's folder.
    /// </summary>
    public string? InstallDirectory { get; init; }

    /// <summary>Loopback address to listen on.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Blob port; 0 picks a free port.</summary>
    public int BlobPort { get; init; }

    /// <summary>
    /// Folder for Azurite's data. Null keeps everything in memory (lost when the process stops);
    /// a folder keeps data across restarts.
    /// </summary>
    public string? DataDirectory { get; init; }

    /// <summary>
    /// Extra storage accounts (name → base64 key) besides the development account, e.g. one per
    /// local region. Azurite reads them from the AZURITE_ACCOUNTS variable.
    /// </summary>
    public IReadOnlyDictionary<string, string> ExtraAccounts { get; init; } = new Dictionary<string, string>();

    /// <summary>How long to wait for Azurite to answer after starting it.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long an <c>npm ci</c> may take when Azurite is not installed yet.</summary>
    public TimeSpan InstallTimeout { get; init; } = TimeSpan.FromMinutes(5);
}
