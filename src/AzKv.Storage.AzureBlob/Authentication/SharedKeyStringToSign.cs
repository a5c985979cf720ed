using System.Text;
using Azure.Core;

namespace AzKv.Storage.AzureBlob.Authentication;

/// <summary>
/// The Shared Key string-to-sign of the Blob service (REST version 2009-09-19 and later):
/// <code>
/// VERB \n Content-Encoding \n Content-Language \n Content-Length \n Content-MD5 \n
/// Content-Type \n Date \n If-Modified-Since \n If-Match \n If-None-Match \n
/// If-Unmodified-Since \n Range \n CanonicalizedHeaders CanonicalizedResource
/// </code>
/// Content-Length is empty when it is 0 (version 2015-02-21 and later); Date is empty because
/// every request carries <c>x-ms-date</c>. CanonicalizedHeaders is one <c>name:value\n</c> line per
/// <c>x-ms-</c> header, names lowercased and sorted (see <see cref="HeaderNameComparer"/>).
/// CanonicalizedResource is <c>/{account}{escaped URL path}</c>, then one <c>\nname:value</c> line
/// per query parameter, names lowercased and sorted, values URL-decoded (several values of one
/// name sorted and joined with commas). For a path-style endpoint (Azurite) the URL path already
/// starts with the account name, so the account appears twice: <c>/devstoreaccount1/devstoreaccount1/container/blob</c>.
/// </summary>
internal static class SharedKeyStringToSign
{
    private const string XmsPrefix = "x-ms-";

    // Per-thread scratch space: signing runs on every request of the hot path, and these are
    // cleared before each use. (A policy runs synchronously on one thread from start to end.)
    [ThreadStatic]
    private static StringBuilder? _threadBuilder;

    [ThreadStatic]
    private static List<KeyValuePair<string, string>>? _threadHeaders;

    [ThreadStatic]
    private static List<KeyValuePair<string, string>>? _threadScratch;

    /// <summary>Builds the string-to-sign for <paramref name="request"/> as the transport will send it.</summary>
    public static string Build(Request request, string accountName)
    {
        List<KeyValuePair<string, string>> headers = _threadHeaders ??= new List<KeyValuePair<string, string>>(16);
        headers.Clear();
        foreach (HttpHeader header in request.Headers)
        {
            headers.Add(new KeyValuePair<string, string>(header.Name, header.Value));
        }

        long? contentLength = null;
        if (request.Content is not null && request.Content.TryComputeLength(out long length))
        {
            contentLength = length;
        }

        // The transport sends exactly this Uri (RequestUriBuilder caches it), so sign its escaped path.
        Uri uri = request.Uri.ToUri();
        string result = Build(request.Method.Method, uri.AbsolutePath, uri.Query, headers, contentLength, accountName);
        headers.Clear();
        return result;
    }

    /// <summary>Builds the string-to-sign from its parts; <paramref name="path"/> and <paramref name="query"/> are as sent (escaped).</summary>
    public static string Build(
        string method,
        string path,
        string query,
        IReadOnlyList<KeyValuePair<string, string>> headers,
        long? contentLength,
        string accountName)
    {
        StringBuilder sb = _threadBuilder ??= new StringBuilder(512);
        sb.Clear();
        sb.Append(method.ToUpperInvariant()).Append('\n');
        AppendStandard(sb, headers, "Content-Encoding");
        AppendStandard(sb, headers, "Content-Language");

        if (contentLength is long cl)
        {
            if (cl != 0)
            {
                sb.Append(cl);
            }
        }
        else if (Find(headers, "Content-Length") is string contentLengthText && contentLengthText != "0")
        {
            sb.Append(contentLengthText);
        }

        sb.Append('\n');
        AppendStandard(sb, headers, "Content-MD5");
        AppendStandard(sb, headers, "Content-Type");
        AppendStandard(sb, headers, "Date");
        AppendStandard(sb, headers, "If-Modified-Since");
        AppendStandard(sb, headers, "If-Match");
        AppendStandard(sb, headers, "If-None-Match");
        AppendStandard(sb, headers, "If-Unmodified-Since");
        AppendStandard(sb, headers, "Range");
        AppendCanonicalizedHeaders(sb, headers);
        AppendCanonicalizedResource(sb, accountName, path, query);
        string result = sb.ToString();
        if (sb.Capacity > 8192)
        {
            _threadBuilder = null; // do not pin a huge builder to the thread (very long blob names)
        }

        return result;
    }

    private static void AppendStandard(StringBuilder sb, IReadOnlyList<KeyValuePair<string, string>> headers, string name)
    {
        string? value = Find(headers, name);
        if (value is not null)
        {
            sb.Append(value);
        }

        sb.Append('\n');
    }

    private static string? Find(IReadOnlyList<KeyValuePair<string, string>> headers, string name)
    {
        for (int i = 0; i < headers.Count; i++)
        {
            if (string.Equals(headers[i].Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return headers[i].Value;
            }
        }

        return null;
    }

    private static void AppendCanonicalizedHeaders(StringBuilder sb, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        List<KeyValuePair<string, string>> xms = _threadScratch ??= new List<KeyValuePair<string, string>>(16);
        xms.Clear();
        for (int i = 0; i < headers.Count; i++)
        {
            KeyValuePair<string, string> header = headers[i];
            string name = header.Key.Trim();
            if (name.StartsWith(XmsPrefix, StringComparison.OrdinalIgnoreCase))
            {
                xms.Add(new KeyValuePair<string, string>(ToLowerAscii(name), header.Value));
            }
        }

        xms.Sort(static (a, b) => HeaderNameComparer.Instance.Compare(a.Key, b.Key));
        for (int i = 0; i < xms.Count; i++)
        {
            // Values are trimmed (HTTP strips the ends anyway); inner whitespace is kept as sent,
            // which is what the Azure SDKs and Azurite sign. We never send values with runs of spaces.
            sb.Append(xms[i].Key).Append(':').Append(xms[i].Value.AsSpan().Trim()).Append('\n');
        }

        xms.Clear();
    }

    /// <summary>Lowercases only when needed: the names we send are lowercase already.</summary>
    private static string ToLowerAscii(string name)
    {
        foreach (char c in name)
        {
            if (char.IsAsciiLetterUpper(c))
            {
                return name.ToLowerInvariant();
            }
        }

        return name;
    }

    private static void AppendCanonicalizedResource(StringBuilder sb, string accountName, string path, string query)
    {
        sb.Append('/').Append(accountName);
        sb.Append(path.Length == 0 ? "/" : path);

        ReadOnlySpan<char> rest = query.AsSpan();
        if (rest.Length > 0 && rest[0] == '?')
        {
            rest = rest[1..];
        }

        if (rest.IsEmpty)
        {
            return;
        }

        if (rest.IndexOf('&') < 0)
        {
            // One parameter (comp=appendblock, comp=lease, ...): the common case, no sorting.
            AppendParameter(sb, rest);
            return;
        }

        var parameters = new List<KeyValuePair<string, string>>(4);
        while (!rest.IsEmpty)
        {
            int amp = rest.IndexOf('&');
            ReadOnlySpan<char> pair = amp < 0 ? rest : rest[..amp];
            rest = amp < 0 ? [] : rest[(amp + 1)..];
            if (pair.IsEmpty)
            {
                continue;
            }

            int eq = pair.IndexOf('=');
            string name = ToLowerAscii(Uri.UnescapeDataString(eq < 0 ? pair.ToString() : pair[..eq].ToString()));
            string value = eq < 0 ? string.Empty : Uri.UnescapeDataString(pair[(eq + 1)..].ToString());
            parameters.Add(new KeyValuePair<string, string>(name, value));
        }

        parameters.Sort(static (a, b) =>
        {
            int byName = string.CompareOrdinal(a.Key, b.Key);
            return byName != 0 ? byName : string.CompareOrdinal(a.Value, b.Value);
        });

        for (int i = 0; i < parameters.Count; i++)
        {
            if (i > 0 && parameters[i].Key == parameters[i - 1].Key)
            {
                sb.Append(',').Append(parameters[i].Value);
            }
            else
            {
                sb.Append('\n').Append(parameters[i].Key).Append(':').Append(parameters[i].Value);
            }
        }
    }

    private static void AppendParameter(StringBuilder sb, ReadOnlySpan<char> pair)
    {
        int eq = pair.IndexOf('=');
        ReadOnlySpan<char> name = eq < 0 ? pair : pair[..eq];
        ReadOnlySpan<char> value = eq < 0 ? [] : pair[(eq + 1)..];
        sb.Append('\n').Append(ToLowerAscii(Uri.UnescapeDataString(name.ToString()))).Append(':');
        if (value.Contains('%'))
        {
            sb.Append(Uri.UnescapeDataString(value.ToString()));
        }
        else
        {
            sb.Append(value);
        }
    }
}
