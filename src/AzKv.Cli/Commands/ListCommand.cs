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
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1)
            {
                result.AddError("--limit must be 1 or more.");
            }
        });

        var command = new Command("list", "List keys in byte order of their UTF-8.") { prefix, limit, values, json };
        command.Aliases.Add("ls");
        command.SetClientAction(async (client, context, cancellationToken) =>
        {
            var parse = context.ParseResult;
            var max = parse.GetValue(limit);
            var pageSize = max is { } n ? Math.Min(n, AzKvClient.MaxPageSize) : AzKvClient.MaxPageSize;
            var withValues = parse.GetValue(values);
            var asJson = parse.GetValue(json);
            var table = withValues
                ? new Table("KEY", "SIZE", "CONTENT-TYPE", "ETAG", "VALUE")
                : new Table("KEY", "SIZE", "CONTENT-TYPE", "ETAG");
            var count = 0;
            await foreach (var item in client.ListAsync(parse.GetValue(prefix), pageSize, withValues, cancellationToken).ConfigureAwait(false))
            {
                if (max is { } m && count >= m)
                {
                    break;
                }

                count++;
                if (asJson)
                {
                    var line = new ListLine(item.Key, item.ETag, item.ContentType, item.Size, item.Value?.ToArray());
                    await context.Output.WriteLineAsync(JsonSerializer.Serialize(line, CliJsonContext.Lines.ListLine)).ConfigureAwait(false);
                }
                else
                {
                    var size = item.Size.ToString(CultureInfo.InvariantCulture);
                    if (withValues)
                    {
                        table.Add(item.Key, size, item.ContentType, item.ETag, FormatValue(item));
                    }
                    else
                    {
                        table.Add(item.Key, size, item.ContentType, item.ETag);
                    }
                }
            }

            if (!asJson)
            {
                await table.WriteAsync(context.Output).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return command;
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
