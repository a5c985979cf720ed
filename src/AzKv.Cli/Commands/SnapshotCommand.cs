using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AzKv.Cli.Client;
using AzKv.Cli.Output;
using AzKv.Client;

namespace AzKv.Cli.Commands;

/// <summary>
/// <c>azkv snapshot create|list|get|delete</c>: immutable snapshots of the key-values under prefixes (docs/api.md,
/// "Snapshots"; docs/cli.md).
/// </summary>
internal static class SnapshotCommand
{
    public static Command Create()
    {
        var createName = new Argument<string>("name") { Description = "1-128 letters, digits, '.', '_', '-'." };
        var prefixes = new Option<string[]>("--prefix", "-p") { Description = "Snapshot the keys under this prefix (repeatable, up to 3; later wins per key).", Required = true };
        var label = new Option<string?>("--label", "-l") { Description = "The label to take under every prefix; omit it (or \\0) for the values without a label." };
        var retention = new Option<string?>("--retention") { Description = "How long to keep it: seconds, or a number with m, h or d (1h to 90d; default 30d)." };
        var create = new Command("create", "Freeze the key-values under the prefixes into a snapshot; prints its metadata as JSON.") { createName, prefixes, label, retention };
        create.SetClientAction(async (client, context, cancellationToken) =>
        {
            var parse = context.ParseResult;
            if (!TryParseRetention(parse.GetValue(retention), out var keep))
            {
                await context.Error.WriteLineAsync("azkv: --retention must be seconds or a number with m, h or d (e.g. 12h, 7d).").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            var typedLabel = parse.GetValue(label);
            var labelValue = typedLabel is null or LabelOptions.NullLabelText ? null : typedLabel;
            var filters = (parse.GetValue(prefixes) ?? []).Select(p => new AzKvSnapshotFilter(p, labelValue)).ToList();
            var snapshot = await client.CreateSnapshotAsync(parse.GetValue(createName)!, filters, keep, cancellationToken).ConfigureAwait(false);
            await context.Output.WriteLineAsync(JsonSerializer.Serialize(snapshot, CliJsonContext.Indented.AzKvSnapshot)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });

        var listJson = new Option<bool>("--json") { Description = "One JSON object per snapshot instead of a table." };
        var list = new Command("list", "List the snapshots you may read.") { listJson };
        list.SetClientAction(async (client, context, cancellationToken) =>
        {
            var asJson = context.ParseResult.GetValue(listJson);
            var table = new Table("NAME", "ITEMS", "SIZE", "CREATED", "EXPIRES", "FILTERS");
            await foreach (var snapshot in client.ListSnapshotsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (asJson)
                {
                    await context.Output.WriteLineAsync(JsonSerializer.Serialize(snapshot, CliJsonContext.Lines.AzKvSnapshot)).ConfigureAwait(false);
                    continue;
                }

                table.Add(
                    snapshot.Name,
                    snapshot.ItemCount.ToString(CultureInfo.InvariantCulture),
                    snapshot.SizeBytes.ToString(CultureInfo.InvariantCulture),
                    snapshot.Created.ToString("u", CultureInfo.InvariantCulture),
                    snapshot.Expires.ToString("u", CultureInfo.InvariantCulture),
                    string.Join(' ', snapshot.Filters.Select(f => f.Label is null ? f.Prefix + "*" : $"{f.Prefix}*[{f.Label}]")));
            }

            if (!asJson)
            {
                await table.WriteAsync(context.Output).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });

        var getName = new Argument<string>("name") { Description = "The snapshot." };
        var items = new Option<bool>("--items") { Description = "Print its items (with values) instead of its metadata." };
        var getJson = new Option<bool>("--json") { Description = "With --items: one JSON object per item (values in base64) instead of a table." };
        var get = new Command("get", "Print a snapshot's metadata as JSON, or its items.") { getName, items, getJson };
        get.SetClientAction(async (client, context, cancellationToken) =>
        {
            var parse = context.ParseResult;
            var name = parse.GetValue(getName)!;
            var snapshot = await client.GetSnapshotAsync(name, cancellationToken).ConfigureAwait(false);
            if (snapshot is null)
            {
                await context.Error.WriteLineAsync($"azkv: snapshot {name} not found").ConfigureAwait(false);
                return ExitCodes.NotFound;
            }

            if (!parse.GetValue(items))
            {
                await context.Output.WriteLineAsync(JsonSerializer.Serialize(snapshot, CliJsonContext.Indented.AzKvSnapshot)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var asJson = parse.GetValue(getJson);
            var table = new Table("KEY", "LABEL", "SIZE", "CONTENT-TYPE", "VALUE");
            await foreach (var item in client.GetSnapshotItemsAsync(name, includeValues: true, pageSize: AzKvClient.MaxPageSize, cancellationToken).ConfigureAwait(false))
            {
                if (asJson)
                {
                    var line = new ListLine(item.Key, item.ETag, item.ContentType, item.Size, item.Value?.ToArray()) { Label = item.Label };
                    await context.Output.WriteLineAsync(JsonSerializer.Serialize(line, CliJsonContext.Lines.ListLine)).ConfigureAwait(false);
                }
                else
                {
                    table.Add(item.Key, item.Label ?? string.Empty, item.Size.ToString(CultureInfo.InvariantCulture), item.ContentType, ListCommand.FormatValue(item));
                }
            }

            if (!asJson)
            {
                await table.WriteAsync(context.Output).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });

        var deleteName = new Argument<string>("name") { Description = "The snapshot." };
        var delete = new Command("delete", "Delete a snapshot.") { deleteName };
        delete.SetClientAction(async (client, context, cancellationToken) =>
        {
            var name = context.ParseResult.GetValue(deleteName)!;
            if (!await client.DeleteSnapshotAsync(name, cancellationToken).ConfigureAwait(false))
            {
                await context.Error.WriteLineAsync($"azkv: snapshot {name} not found").ConfigureAwait(false);
                return ExitCodes.NotFound;
            }

            return ExitCodes.Ok;
        });

        return new Command("snapshot", "Immutable snapshots of key-values (create, list, get, delete).") { create, list, get, delete };
    }

    /// <summary>Seconds (<c>3600</c>) or a number with <c>m</c>, <c>h</c> or <c>d</c>; null (absent) is the server's default.</summary>
    internal static bool TryParseRetention(string? text, out TimeSpan? retention)
    {
        retention = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        var unit = char.ToLowerInvariant(text[^1]);
        var (digits, scale) = unit switch
        {
            'm' => (text[..^1], 60L),
            'h' => (text[..^1], 3600L),
            'd' => (text[..^1], 86400L),
            's' => (text[..^1], 1L),
            _ => (text, 1L),
        };
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > long.MaxValue / scale / TimeSpan.TicksPerSecond)
        {
            return false;
        }

        retention = TimeSpan.FromSeconds(number * scale);
        return true;
    }
}
