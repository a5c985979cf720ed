using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace AzKv.Extensions.Configuration.Tests.Docs;

/// <summary>
/// Every <c>```csharp</c> block in the docs and READMEs compiles as written: each is a whole
/// program (top-level statements) with the implicit usings of a new <c>dotnet new console</c>
/// project and nothing else, against the libraries as built here (AzKv.Client,
/// AzKv.Extensions.Configuration, ASP.NET Core, Microsoft.FeatureManagement, the test support).
/// A snippet a reader cannot paste into a project is a broken doc.
/// </summary>
public sealed partial class DocSnippetTests
{
    /// <summary>What <c>ImplicitUsings</c> gives a Microsoft.NET.Sdk project: all a snippet may leave out.</summary>
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    private static readonly Lazy<IReadOnlyList<MetadataReference>> References = new(LoadReferences);

    public static TheoryData<string, int> Snippets()
    {
        var data = new TheoryData<string, int>();
        foreach (var (file, line, _) in FindSnippets())
        {
            data.Add(file, line);
        }

        return data;
    }

    [Fact]
    public void FindSnippets_WhenTheDocsAreRead_FindsTheProviderAndClientExamples()
    {
        var files = FindSnippets().Select(s => s.File).ToHashSet(StringComparer.Ordinal);

        Assert.Contains("docs/configuration-provider.md", files);
        Assert.Contains("src/AzKv.Client/README.md", files);
        Assert.Contains("src/AzKv.Extensions.Configuration/README.md", files);
    }

    [Theory]
    [MemberData(nameof(Snippets))]
    public void Snippet_WhenCompiledAsAProgram_HasNoErrors(string file, int line)
    {
        var code = FindSnippets().Single(s => s.File == file && s.Line == line).Code;

        var errors = Compile(code);

        Assert.True(errors.Count == 0, $"{file}:{line}: the snippet does not compile as written:\n{string.Join('\n', errors)}\n--- snippet ---\n{code}");
    }

    [Fact]
    public void Compile_WhenASnippetUsesAnUndeclaredVariable_ReportsTheError()
    {
        // The check itself must be able to fail: the client README's watch example once used `saved`.
        var errors = Compile("""
            using AzKv.Client;
            using var client = new AzKvClient(new Uri("http://127.0.0.1:8080"));
            await foreach (var change in client.WatchAsync("app/", cursor: saved)) { }
            """);

        Assert.Contains(errors, e => e.Contains("CS0103", StringComparison.Ordinal) && e.Contains("saved", StringComparison.Ordinal));
    }

    [Fact]
    public void Compile_WhenASnippetNeedsAUsingItDoesNotHave_ReportsTheError()
    {
        var errors = Compile("""
            var builder = WebApplication.CreateBuilder(args);
            """);

        Assert.Contains(errors, e => e.Contains("WebApplication", StringComparison.Ordinal));
    }

    private static List<string> Compile(string code)
    {
        var options = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create(
            "Snippet",
            [CSharpSyntaxTree.ParseText(ImplicitUsings, options), CSharpSyntaxTree.ParseText(code, options)],
            References.Value,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var output = new MemoryStream();
        var result = compilation.Emit(output);
        return [.. result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString())];
    }

    /// <summary>The platform (with ASP.NET Core, which this test's runtime carries) and every assembly built next to the tests.</summary>
    private static IReadOnlyList<MetadataReference> LoadReferences()
    {
        var paths = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll"))
            .Where(IsManagedAssembly)
            .GroupBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase)
            .Select(g => g.First());
        return [.. paths.Select(p => MetadataReference.CreateFromFile(p))];
    }

    private static bool IsManagedAssembly(string path)
    {
        try
        {
            AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }

    private static IEnumerable<(string File, int Line, string Code)> FindSnippets()
    {
        var root = AzKv.Testing.RepositoryFiles.Root;
        var files = new[] { "README.md" }
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md").Select(f => Path.GetRelativePath(root, f)))
            .Concat(new[] { "src", "samples", "tests" }
                .Select(d => Path.Combine(root, d))
                .Where(Directory.Exists)
                .SelectMany(d => Directory.EnumerateDirectories(d))
                .Select(d => Path.Combine(d, "README.md"))
                .Where(File.Exists)
                .Select(f => Path.GetRelativePath(root, f)))
            .Select(f => f.Replace('\\', '/'))
            .Order(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var lines = File.ReadAllLines(Path.Combine(root, file));
            for (var i = 0; i < lines.Length; i++)
            {
                if (!FenceStart().IsMatch(lines[i]))
                {
                    continue;
                }

                var start = i + 1;
                var code = new StringBuilder();
                for (i++; i < lines.Length && !lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal); i++)
                {
                    code.AppendLine(lines[i]);
                }

                yield return (file, start, code.ToString());
            }
        }
    }


    [GeneratedRegex(@"^\s*```(csharp|cs|c#)\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex FenceStart();
}
