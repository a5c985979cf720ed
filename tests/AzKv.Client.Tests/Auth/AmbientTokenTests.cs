using AzKv.Client.Auth;

namespace AzKv.Client.Tests.Auth;

/// <summary>Where a client finds a token by itself: AZKV_TOKEN, AZKV_TOKEN_FILE, then a local up's description.</summary>
public sealed class AmbientTokenTests : IDisposable
{
    private static readonly Uri Local = new("http://127.0.0.1:18080");
    private readonly string _home = Path.Combine(Path.GetTempPath(), "azkv-ambient-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, string?> _environment = [];

    public AmbientTokenTests()
    {
        Directory.CreateDirectory(_home);
        _environment[AmbientToken.HomeVariable] = _home;
    }

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private string? Env(string name) => _environment.GetValueOrDefault(name);

    private async Task<string?> TokenAsync(params Uri[] endpoints)
    {
        var provider = AmbientToken.Find(endpoints, allowOverHttp: false, TimeProvider.System, Env);
        return provider is null ? null : (await provider(CancellationToken.None)).Token;
    }

    private void DescribeLocalNode(Uri endpoint, string token)
    {
        var tokenFile = Path.Combine(_home, "admin.token");
        File.WriteAllText(tokenFile, token + "\n");
        var descriptor = AmbientToken.DescriptorPath(endpoint, Env);
        Directory.CreateDirectory(Path.GetDirectoryName(descriptor)!);
        File.WriteAllText(descriptor, $"{{\"tokenFile\": \"{tokenFile}\", \"signingKeyFile\": \"/k\"}}");
    }

    [Fact]
    public async Task Find_WhenNothingIsSet_ReturnsNoToken() =>
        Assert.Null(await TokenAsync(Local));

    [Fact]
    public async Task Find_WhenAzkvTokenIsSet_UsesItBeforeAnyFile()
    {
        DescribeLocalNode(Local, "from-up");
        _environment[AmbientToken.TokenVariable] = "from-env\n";

        Assert.Equal("from-env", await TokenAsync(Local));
    }

    [Fact]
    public async Task Find_WhenTokenFileIsSet_ReadsTheFile()
    {
        var file = Path.Combine(_home, "t");
        await File.WriteAllTextAsync(file, "from-file\n");
        DescribeLocalNode(Local, "from-up");
        _environment[AmbientToken.TokenFileVariable] = file;

        Assert.Equal("from-file", await TokenAsync(Local));
    }

    [Fact]
    public async Task Find_WhenALocalUpServesTheEndpoint_ReadsItsTokenFile()
    {
        DescribeLocalNode(Local, "from-up");

        Assert.Equal("from-up", await TokenAsync(Local));
        Assert.Null(await TokenAsync(new Uri("http://127.0.0.1:18081")));
    }

    [Fact]
    public async Task Find_WhenTheDescriptionStartsWithAByteOrderMark_StillReadsIt()
    {
        DescribeLocalNode(Local, "from-up");
        var descriptor = AmbientToken.DescriptorPath(Local, Env);
        await File.WriteAllTextAsync(descriptor, await File.ReadAllTextAsync(descriptor), new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));

        Assert.Equal("from-up", await TokenAsync(Local));
    }

    [Fact]
    public async Task Find_WhenAnEndpointIsPlainHttpToAnotherHost_SendsNothing()
    {
        _environment[AmbientToken.TokenVariable] = "secret";

        Assert.Null(await TokenAsync(Local, new Uri("http://config.example.com")));
        Assert.Equal("secret", await TokenAsync(new Uri("https://config.example.com")));
    }
}
