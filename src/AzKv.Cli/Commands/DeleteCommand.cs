using System.CommandLine;
using AzKv.Cli.Client;

namespace AzKv.Cli.Commands;

/// <summary><c>azkv delete &lt;key&gt;</c>.</summary>
internal static class DeleteCommand
{
    public static Command Create()
    {
        var key = new Argument<string>("key") { Description = "The key." };
        var ifMatch = new Option<string?>("--if-match") { Description = "Delete only if the key's current ETag is this one." };
        var label = LabelOptions.Label();
        var command = new Command("delete", "Delete a key (one label of it with --label). Exit code 3 when it does not exist.") { key, label, ifMatch };
        command.Aliases.Add("rm");

        command.SetClientAction(async (client, context, cancellationToken) =>
        {
            var name = context.ParseResult.GetValue(key)!;
            var labelValue = context.ParseResult.GetValue(label);
            if (!await client.DeleteAsync(name, labelValue, context.ParseResult.GetValue(ifMatch), cancellationToken).ConfigureAwait(false))
            {
                await context.Error.WriteLineAsync($"azkv: {LabelOptions.Display(name, labelValue)}: not found").ConfigureAwait(false);
                return ExitCodes.NotFound;
            }

            await context.Output.WriteLineAsync("deleted").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
