namespace AzKv.Functions.Tests;

/// <summary>Paths in the repository and in the Functions project's build output.</summary>
internal static class Repository
{
    /// <summary>The folder holding AzKv.sln.</summary>
    public static string Root => AzKv.Testing.RepositoryFiles.Root;

    /// <summary>
    /// src/AzKv.Functions/bin/&lt;configuration&gt;/&lt;framework&gt;: where the Functions SDK writes
    /// functions.metadata (this test project's configuration and framework; the reference builds it first).
    /// </summary>
    public static string FunctionsOutput
    {
        get
        {
            var framework = new DirectoryInfo(AppContext.BaseDirectory);
            var configuration = framework.Parent!;
            return Path.Combine(Root, "src", "AzKv.Functions", "bin", configuration.Name, framework.Name);
        }
    }

    public static string ReadFile(string relativePath) => File.ReadAllText(Path.Combine(Root, relativePath));
}
