namespace AzKv.Sample.Web;

/// <summary>The sample's settings, bound from the AzKv keys under <c>sample/</c>.</summary>
public sealed class GreetingOptions
{
    /// <summary>The greeting GET / shows: key <c>sample/Greeting</c>.</summary>
    public string Greeting { get; set; } = "Hello (default: no sample/Greeting key in AzKv yet)";

    /// <summary>Who to greet: key <c>sample/Audience/Name</c>, or a JSON value at <c>sample/Audience</c>.</summary>
    public AudienceOptions Audience { get; set; } = new();
}

/// <summary>A nested section, to show key paths and JSON values.</summary>
public sealed class AudienceOptions
{
    /// <summary>The name.</summary>
    public string Name { get; set; } = "world";
}
