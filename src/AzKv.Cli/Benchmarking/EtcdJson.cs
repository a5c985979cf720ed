using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace AzKv.Cli.Benchmarking;

/// <summary>
/// etcd's v3 JSON gateway (grpc-gateway over the KV service): keys and values are base64 in
/// JSON, and 64-bit integers are JSON strings. Only what the benchmark sends and reads.
/// </summary>
internal static class EtcdJson
{
    /// <summary>The put path (<c>KV.Put</c>).</summary>
    public const string PutPath = "/v3/kv/put";

    /// <summary>The range path (<c>KV.Range</c>).</summary>
    public const string RangePath = "/v3/kv/range";

    /// <summary><c>{"key":"&lt;base64&gt;","value":"&lt;base64&gt;"}</c>.</summary>
    public static byte[] EncodePut(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + (4 * (key.Length + value.Length) / 3));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteBase64String("key"u8, key);
            writer.WriteBase64String("value"u8, value);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// <c>{"key":"&lt;base64&gt;","serializable":true}</c>: a single-key range; serializable reads
    /// are answered by the member from its own state, without a round of consensus.
    /// </summary>
    public static byte[] EncodeRange(ReadOnlySpan<byte> key, bool serializable)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + (4 * key.Length / 3));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteBase64String("key"u8, key);
            if (serializable)
            {
                writer.WriteBoolean("serializable"u8, true);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads a range answer: the number of keys found (<c>count</c>, absent when 0) and the first
    /// key-value's value, decoded (empty when none). False when the document is not a range answer.
    /// </summary>
    public static bool TryReadRange(ReadOnlySpan<byte> json, out long count, out byte[] firstValue)
    {
        count = 0;
        firstValue = [];
        var sawHeader = false;
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("header"u8))
                {
                    sawHeader = true;
                    reader.Read();
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("count"u8))
                {
                    reader.Read();
                    if (!TryReadInt64(ref reader, out count))
                    {
                        return false;
                    }
                }
                else if (reader.ValueTextEquals("kvs"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        return false;
                    }

                    var first = true;
                    while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                    {
                        if (first)
                        {
                            firstValue = ReadValue(ref reader);
                            first = false;
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            return sawHeader;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Reads the store revision from a put answer's header; false when it is not one.</summary>
    public static bool TryReadRevision(ReadOnlySpan<byte> json, out long revision)
    {
        revision = 0;
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals("header"u8))
                {
                    reader.Read();
                    reader.Skip();
                    continue;
                }

                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    return false;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("revision"u8))
                    {
                        reader.Read();
                        return TryReadInt64(ref reader, out revision);
                    }

                    reader.Read();
                    reader.Skip();
                }

                return false;
            }

            return false;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The <c>value</c> of one <c>mvccpb.KeyValue</c> object (the reader is on its start); empty when absent.</summary>
    private static byte[] ReadValue(ref Utf8JsonReader reader)
    {
        byte[] value = [];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("value"u8))
            {
                reader.Read();
                value = reader.TokenType == JsonTokenType.String ? DecodeBase64(ref reader) : [];
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return value;
    }

    private static byte[] DecodeBase64(ref Utf8JsonReader reader)
    {
        if (reader.TryGetBytesFromBase64(out var bytes))
        {
            return bytes;
        }

        // grpc-gateway may emit URL-safe base64; accept it too.
        var text = reader.GetString() ?? string.Empty;
        return Base64Url.DecodeFromChars(text.TrimEnd('='));
    }

    /// <summary>An int64 as grpc-gateway writes it (a JSON string), or as a plain number.</summary>
    private static bool TryReadInt64(ref Utf8JsonReader reader, out long value)
    {
        value = 0;
        return reader.TokenType switch
        {
            JsonTokenType.Number => reader.TryGetInt64(out value),
            JsonTokenType.String => Utf8Parser.TryParse(reader.ValueSpan, out value, out var consumed) && consumed == reader.ValueSpan.Length && !reader.ValueIsEscaped,
            _ => false,
        };
    }
}
