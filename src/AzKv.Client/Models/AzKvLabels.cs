namespace AzKv.Client;

/// <summary>Spellings of label filters (docs/api.md, "Labels").</summary>
public static class AzKvLabels
{
    /// <summary>Every label, the null label included (the default of list and watch).</summary>
    public const string Any = "*";

    /// <summary>The null label (no label) in a filter; sent as <c>%00</c>. Combine with labels in a comma list: <c>"\0,dev"</c>.</summary>
    public const string Null = "\0";
}
