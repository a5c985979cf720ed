using System.CommandLine;
using System.Text.Json;
using AzKv.Cli.Client;
using AzKv.Cli.Output;

namespace AzKv.Cli.Commands;

/// <summary><c>azkv get &lt;key&gt;</c>: writes the value's raw bytes to stdout (or a file).</summary>
internal static class GetCommand
{
    public static Command Create()
    {
        var key = new Argument<string>("key") { Description = "The key." };
        var etag = new Option<bool>("--etag") { Description = "Print the key's ETag (one line) instead of the value; with --output the value still goes to the file." };
        var label = LabelOptions.Label();
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Write the value to this file instead of standard output." };
        var command = new Command("get", "Read a key: its value's bytes on standard output. Exit code 3 when the key does not exist.")
        {
            key, label, etag, output,
        };

        command.SetClientAction(async (client, context, cancellationToken) =>
        {
            var parse = context.ParseResult;
            var name = parse.GetValue(key)!;
            var labelValue = parse.GetValue(label);
            var entry = await client.GetAsync(name, labelValue, cancellationToken).ConfigureAwait(false);
            if (entry is null)
            {
                await context.Error.WriteLineAsync($"azkv: {LabelOptions.Display(name, labelValue)}: not found").ConfigureAwait(false);
                return ExitCodes.NotFound;
            }

            if (entry.HasSiblings)
            {
                // One JSON line per version, so a script can merge them; the context ETag resolves them.
                foreach (var sibling in entry.Siblings)
                {
                    var line = new SiblingLine(sibling.Region, sibling.Hlc, sibling.ContentType, sibling.Value.ToArray());
                    await context.Output.WriteLineAsync(JsonSerializer.Serialize(line, CliJsonContext.Lines.SiblingLine)).ConfigureAwait(false);
                }

                await context.Error.WriteLineAsync(
                    $"azkv: {name} has {entry.Siblings.Count} concurrent versions (context ETag {entry.ETag}). " +
                    $"Resolve them with: azkv put {name} <merged value> --if-match '{entry.ETag}'").ConfigureAwait(false);
                return ExitCodes.Siblings;
            }

            var file = parse.GetValue(output);
            if (file is not null)
            {
                await File.WriteAllBytesAsync(file.FullName, entry.Value, cancellationToken).ConfigureAwait(false);
            }

            if (parse.GetValue(etag))
            {
                await context.Output.WriteLineAsync(entry.ETag).ConfigureAwait(false);
            }
            else if (file is null)
            {
                await context.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
                using var stdout = Console.OpenStandardOutput();
                await stdout.WriteAsync(entry.Value, cancellationToken).ConfigureAwait(false);
                await stdout.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
