using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AzKv.Cli.Client;
using AzKv.Cli.Output;
using AzKv.Client;

namespace AzKv.Cli.Commands;

/// <summary><c>azkv list</c>: keys under a prefix, as a table or JSON lines.</summary>
internal static class ListCommand
{
    /// <summary>Longest value shown in a table cell; the JSON output is never shortened.</summary>
    private const int MaxValueCellChars = 60;

    public static Command Create()
    {
        var prefix = new Option<string?>("--prefix", "-p") { Description = "Only keys starting with this." };
        var limit = new Option<int?>("--limit", "-n") { Description = "Print at most this many keys (default: all)." };
        var values = new Option<bool>("--values") { Description = "Also print each value (text as is, other bytes as base64)." };
        var json = new Option<bool>("--json") { Description = "One JSON object per key (values in base64) instead of a table." };
        var label = LabelOptions.Filter();
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1)
            {
                result.AddError("--limit must be 1 or more.");
            }
        });

        var command = new Command("list", "List keys in byte order of their UTF-8.") { prefix, label, limit, values, json };
        command.Aliases.Add("ls");
        command.SetClientAction(async (client, context, cancellationToken) =>
        {
            var parse = context.ParseResult;
            var max = parse.GetValue(limit);
            var pageSize = max is { } n ? Math.Min(n, AzKvClient.MaxPageSize) : AzKvClient.MaxPageSize;
            var withValues = parse.GetValue(values);
            var asJson = parse.GetValue(json);
            var rows = new List<KvItem>();
            var count = 0;
            var filter = LabelOptions.ToFilter(parse.GetValue(label));
            await foreach (var item in client.ListAsync(parse.GetValue(prefix), filter, pageSize, withValues, cancellationToken).ConfigureAwait(false))
            {
                if (max is { } m && count >= m)
                {
                    break;
                }

                count++;
                if (asJson)
                {
                    var line = new ListLine(item.Key, item.ETag, item.ContentType, item.Size, item.Value?.ToArray()) { Label = item.Label };
                    await context.Output.WriteLineAsync(JsonSerializer.Serialize(line, CliJsonContext.Lines.ListLine)).ConfigureAwait(false);
                }
                else
                {
                    rows.Add(item);
                }
            }

            if (!asJson)
            {
                await BuildTable(rows, withValues).WriteAsync(context.Output).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The table; with a LABEL column when any entry has a label.</summary>
    private static Table BuildTable(List<KvItem> rows, bool withValues)
    {
        var labelled = rows.Exists(r => r.Label is not null);
        List<string> headers = ["KEY"];
        if (labelled)
        {
            headers.Add("LABEL");
        }

        headers.AddRange(["SIZE", "CONTENT-TYPE", "ETAG"]);
        if (withValues)
        {
            headers.Add("VALUE");
        }

        var table = new Table([.. headers]);
        foreach (var item in rows)
        {
            List<string> cells = [item.Key];
            if (labelled)
            {
                cells.Add(item.Label ?? string.Empty);
            }

            cells.AddRange([item.Size.ToString(CultureInfo.InvariantCulture), item.ContentType, item.ETag]);
            if (withValues)
            {
                cells.Add(FormatValue(item));
            }

            table.Add([.. cells]);
        }

        return table;
    }

    /// <summary>Text values as they are (control characters escaped), anything else as <c>base64:…</c>.</summary>
    internal static string FormatValue(KvItem item)
    {
        if (item.Value is not { } value)
        {
            return string.Empty;
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(value.Span);
        }
        catch (DecoderFallbackException)
        {
            text = "base64:" + Convert.ToBase64String(value.Span);
            return text.Length > MaxValueCellChars ? text[..MaxValueCellChars] + "…" : text;
        }

        var cell = new StringBuilder(Math.Min(text.Length, MaxValueCellChars + 1));
        foreach (var c in text)
        {
            if (cell.Length >= MaxValueCellChars)
            {
                cell.Append('…');
                break;
            }

            cell.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => c.ToString(),
            });
        }

        return cell.ToString();
    }
}
