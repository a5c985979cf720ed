using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AzKv.Cli.Client;
using AzKv.Cli.Output;
using AzKv.Client;

namespace AzKv.Cli.Commands;

/// <summary><c>azkv watch</c>: one line per change until Ctrl-C.</summary>
internal static class WatchCommand
{
    public static Command Create()
    {
        var prefix = new Option<string?>("--prefix", "-p") { Description = "Only keys starting with this." };
        var cursor = new Option<string?>("--cursor") { Description = "Resume after this cursor (from a previous --json line); default: from now." };
        var json = new Option<bool>("--json") { Description = "One JSON object per change, with the cursor to resume from." };
        var label = LabelOptions.Filter();
        var command = new Command("watch", "Print every change to keys under a prefix, one line each, until Ctrl-C.") { prefix, label, cursor, json };

        command.SetClientAction(
            async (client, context, cancellationToken) =>
            {
                var parse = context.ParseResult;
                var asJson = parse.GetValue(json);
                await foreach (var change in client.WatchAsync(parse.GetValue(prefix), LabelOptions.ToFilter(parse.GetValue(label)), parse.GetValue(cursor), cancellationToken).ConfigureAwait(false))
                {
                    var type = change.Type switch
                    {
                        KvChangeType.Put => "put",
                        KvChangeType.Delete => "delete",
                        _ => "unknown",
                    };
                    string line;
                    if (asJson)
                    {
                        line = JsonSerializer.Serialize(
                            new WatchLine(type, change.Key, change.ETag, change.ContentType, change.Size, change.Cursor) { Label = change.Label },
                            CliJsonContext.Lines.WatchLine);
                    }
                    else if (change.Type == KvChangeType.Put)
                    {
                        line = string.Create(CultureInfo.InvariantCulture, $"put {LabelOptions.Display(change.Key, change.Label, quoted: false)} {change.ETag} {change.Size} {change.ContentType}");
                    }
                    else
                    {
                        line = $"{type} {LabelOptions.Display(change.Key, change.Label, quoted: false)}";
                    }

                    await context.Output.WriteLineAsync(line).ConfigureAwait(false);
                    await context.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
                }

                return ExitCodes.Ok;
            },
            forWatch: true);
        return command;
    }
}
