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
        var command = new Command("delete", "Delete a key. Exit code 3 when it does not exist.") { key, ifMatch };
        command.Aliases.Add("rm");

        command.SetClientAction(async (client, context, cancellationToken) =>
        {
            var name = context.ParseResult.GetValue(key)!;
            if (!await client.DeleteAsync(name, context.ParseResult.GetValue(ifMatch), cancellationToken).ConfigureAwait(false))
            {
                await context.Error.WriteLineAsync($"azkv: {name}: not found").ConfigureAwait(false);
                return ExitCodes.NotFound;
            }

            await context.Output.WriteLineAsync("deleted").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
