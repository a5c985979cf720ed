using System.CommandLine;
using System.Text;
using AzKv.Cli.Client;
using AzKv.Client;

namespace AzKv.Cli.Commands;

/// <summary><c>azkv put &lt;key&gt; [value]</c>: writes a key from an argument, a file or stdin.</summary>
internal static class PutCommand
{
    private const string TextContentType = "text/plain; charset=utf-8";
    private const string BinaryContentType = "application/octet-stream";

    public static Command Create()
    {
        var key = new Argument<string>("key") { Description = "The key, e.g. app/feature/color." };
        var value = new Argument<string?>("value")
        {
            Description = "The value as text (UTF-8). Without it, --file or standard input gives the bytes.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var file = new Option<FileInfo?>("--file", "-f") { Description = "Read the value's bytes from this file." };
        var contentType = new Option<string?>("--content-type", "-t")
        {
            Description = $"Content type stored with the value. Default: {TextContentType} for a value argument, else {BinaryContentType}.",
        };
        var ifMatch = new Option<string?>("--if-match") { Description = "Compare-and-swap: write only if the key's current ETag is this one." };
        var label = LabelOptions.Label();
        var createOnly = new Option<bool>("--create-only") { Description = "Write only if the key does not exist yet." };

        var command = new Command("put", "Write a key. Prints the new ETag and whether the key was created or replaced.")
        {
            key, value, label, file, contentType, ifMatch, createOnly,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(ifMatch) is not null && result.GetValue(createOnly))
            {
                result.AddError("--if-match and --create-only cannot be used together.");
            }

            if (result.GetValue(value) is not null && result.GetValue(file) is not null)
            {
                result.AddError("Give the value either as an argument or with --file, not both.");
            }
        });

        command.SetClientAction(async (client, context, cancellationToken) =>
        {
            var parse = context.ParseResult;
            var text = parse.GetValue(value);
            var path = parse.GetValue(file);
            byte[] bytes;
            string defaultType;
            if (text is not null)
            {
                bytes = Encoding.UTF8.GetBytes(text);
                defaultType = TextContentType;
            }
            else if (path is not null)
            {
                if (!path.Exists)
                {
                    await context.Error.WriteLineAsync($"azkv: --file: {path.FullName} does not exist.").ConfigureAwait(false);
                    return ExitCodes.Usage;
                }

                bytes = await File.ReadAllBytesAsync(path.FullName, cancellationToken).ConfigureAwait(false);
                defaultType = BinaryContentType;
            }
            else if (Console.IsInputRedirected)
            {
                using var stdin = Console.OpenStandardInput();
                using var buffer = new MemoryStream();
                await stdin.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
                bytes = buffer.ToArray();
                defaultType = BinaryContentType;
            }
            else
            {
                await context.Error.WriteLineAsync("azkv: no value: give it as an argument, with --file, or on standard input (azkv put key < file).").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            var condition = parse.GetValue(ifMatch) is { } etag
                ? KvCondition.IfMatch(etag)
                : parse.GetValue(createOnly) ? KvCondition.IfNoneMatch : KvCondition.None;
            var result = await client.PutAsync(
                parse.GetValue(key)!,
                parse.GetValue(label),
                bytes,
                parse.GetValue(contentType) ?? defaultType,
                condition,
                cancellationToken).ConfigureAwait(false);
            await context.Output.WriteLineAsync($"{result.ETag} {(result.Created ? "created" : "replaced")}").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
