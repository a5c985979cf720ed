using System.CommandLine;
using AzKv.Client;

namespace AzKv.Cli.Commands;

/// <summary>The <c>--label</c> option of get/put/delete (one label) and list/watch (a filter).</summary>
internal static class LabelOptions
{
    /// <summary>How the null label is typed on a command line (as in the App Configuration CLI): backslash, zero.</summary>
    public const string NullLabelText = "\\0";

    /// <summary>One label; omitted for the null label.</summary>
    public static Option<string?> Label() =>
        new("--label", "-l") { Description = "The label of the value (e.g. dev, prod); omit it for the value without a label." };

    /// <summary>A label filter; omitted for every label.</summary>
    public static Option<string?> Filter() =>
        new("--label", "-l") { Description = "Only these labels: * (any, the default), a label, a comma list; \\0 is the null label (e.g. --label '\\0,dev')." };

    /// <summary>The filter as the client takes it: <c>\0</c> typed as two characters becomes the null label.</summary>
    public static string? ToFilter(string? typed) =>
        typed is null ? null : string.Join(',', typed.Split(',').Select(part => part == NullLabelText ? AzKvLabels.Null : part));

    /// <summary>A key with its label for messages: <c>key</c>, or <c>key [dev]</c>.</summary>
    public static string Display(string key, string? label, bool quoted = true) =>
        label is null ? key : quoted ? $"{key} (label {label})" : $"{key} [{label}]";
}
