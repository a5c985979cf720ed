namespace AzKv.Keys;

/// <summary>
/// The rules for an <c>Idempotency-Key</c> (docs/api.md): 1–128 bytes of visible ASCII (0x21–0x7E), opaque to
/// the server. Checked by the API before a request is forwarded or decided, and by the WAL reader.
/// </summary>
public static class IdempotencyKeys
{
    /// <summary>Longest key, in bytes.</summary>
    public const int MaxLength = 128;

    /// <summary>True when <paramref name="key"/> is a valid idempotency key.</summary>
    public static bool IsValid(string? key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in key)
        {
            if (c < 0x21 || c > 0x7E)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when <paramref name="key"/> (ASCII bytes) is a valid idempotency key.</summary>
    public static bool IsValid(ReadOnlySpan<byte> key)
    {
        if (key.IsEmpty || key.Length > MaxLength)
        {
            return false;
        }

        foreach (var b in key)
        {
            if (b < 0x21 || b > 0x7E)
            {
                return false;
            }
        }

        return true;
    }
}
