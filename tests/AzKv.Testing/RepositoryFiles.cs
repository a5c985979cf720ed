namespace AzKv.Testing;

/// <summary>The repository the tests run from: the folder holding AzKv.sln, found above the test binaries.</summary>
public static class RepositoryFiles
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The repository's root folder.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>The full path of <paramref name="relativePath"/> (with <c>/</c> separators) in the repository.</summary>
    public static string PathOf(string relativePath) => Path.Combine(Root, relativePath.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>The text of a file in the repository.</summary>
    public static string ReadText(string relativePath) => File.ReadAllText(PathOf(relativePath));

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AzKv.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException($"AzKv.sln was not found above {AppContext.BaseDirectory}.");
    }
}
