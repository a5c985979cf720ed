using System.Text;

namespace AzKv.Cli.Output;

/// <summary>A plain text table: columns padded to their widest cell, two spaces apart.</summary>
internal sealed class Table
{
    private readonly string[] _headers;
    private readonly List<string[]> _rows = [];

    public Table(params string[] headers)
    {
        _headers = headers;
    }

    public int Count => _rows.Count;

    public void Add(params string[] cells) => _rows.Add(cells);

    public async Task WriteAsync(TextWriter output)
    {
        var widths = new int[_headers.Length];
        for (var i = 0; i < widths.Length; i++)
        {
            widths[i] = _headers[i].Length;
            foreach (var row in _rows)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        await output.WriteLineAsync(Format(_headers, widths)).ConfigureAwait(false);
        foreach (var row in _rows)
        {
            await output.WriteLineAsync(Format(row, widths)).ConfigureAwait(false);
        }
    }

    private static string Format(string[] cells, int[] widths)
    {
        var line = new StringBuilder();
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                line.Append("  ");
            }

            // The last column is not padded: no trailing spaces.
            line.Append(i == cells.Length - 1 ? cells[i] : cells[i].PadRight(widths[i]));
        }

        return line.ToString();
    }
}
