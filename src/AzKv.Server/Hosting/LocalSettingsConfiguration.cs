using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace AzKv.Server.Hosting;

/// <summary>
/// Reads the <c>Values</c> object of an Azure Functions <c>local.settings.json</c> as configuration:
/// <c>AzKv__Storage__Container</c> becomes <c>AzKv:Storage:Container</c>. A missing file is no error.
/// </summary>
internal sealed class LocalSettingsConfigurationSource : IConfigurationSource
{
    public LocalSettingsConfigurationSource(string path)
    {
        Path = path;
    }

    public string Path { get; }

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(Path);

    private sealed class Provider : ConfigurationProvider
    {
        private readonly string _path;

        public Provider(string path)
        {
            _path = path;
        }

        public override void Load()
        {
            var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            if (File.Exists(_path))
            {
                JsonDocument document;
                try
                {
                    document = JsonDocument.Parse(File.ReadAllBytes(_path));
                }
                catch (JsonException ex)
                {
                    throw new InvalidOperationException($"{_path} is not valid JSON: {ex.Message}", ex);
                }

                using (document)
                {
                    if (document.RootElement.ValueKind == JsonValueKind.Object
                        && document.RootElement.TryGetProperty("Values", out var values)
                        && values.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var property in values.EnumerateObject())
                        {
                            var value = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : property.Value.GetRawText();
                            data[property.Name.Replace("__", ":", StringComparison.Ordinal)] = value;
                        }
                    }
                }
            }

            Data = data;
        }
    }
}
