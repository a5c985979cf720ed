using System.Text;

namespace AzKv.Keys;

/// <summary>
/// The one definition of a label and of the identity rule (key, label). A key may hold one value per label
/// (<c>dev</c>, <c>prod</c>, …) besides the value of the <em>null label</em> (no label); each is a distinct entry with
/// its own causal context (ETag). Inside a partition an entry is named by its <em>entry key</em>: the key alone for
/// the null label, else <c>key + U+0000 + label</c>. Keys and labels never contain a control character, so the
/// separator cannot be forged, the entry keys of one key sort together (U+0000 sorts first), and a prefix of keys is a
/// prefix of entry keys. Partitions route by the key alone (<see cref="KeyOf"/>): every label of a key lives in one partition.
/// </summary>
/// <remarks>
/// A valid label is 1 to <see cref="MaxLabelBytes"/> bytes of UTF-8 with no control character (as keys) and none of
/// <c>*</c> and <c>,</c> (reserved by label filters). The empty string is not a label: the null label is "no label".
/// </remarks>
public static class Labels
{
    /// <summary>Maximum label length in UTF-8 bytes.</summary>
    public const int MaxLabelBytes = 256;

    /// <summary>Separates the key from the label in an entry key.</summary>
    public const char Separator = '\u0000';

    /// <summary>Longest entry key in UTF-8 bytes: a key, the separator and a label.</summary>
    public const int MaxEntryKeyBytes = KeyValidation.MaxKeyBytes + 1 + MaxLabelBytes;

    /// <summary>Validates a label; null when valid, else a message for the caller.</summary>
    public static string? Validate(string? label)
    {
        if (string.IsNullOrEmpty(label))
        {
            return "A label is 1 to 256 bytes of UTF-8; the null label is sent as no label (or label=%00).";
        }

        if (label.AsSpan().IndexOfAny('*', ',') >= 0)
        {
            return "A label may not contain '*' or ',' (they are label filter syntax).";
        }

        var validation = KeyValidation.Validate(label);
        if (!validation.IsValid)
        {
            return validation.Error == KeyValidationError.TooLong
                ? $"A label is at most {MaxLabelBytes} bytes of UTF-8."
                : "Invalid label: " + validation.Message.Replace("key", "label", StringComparison.Ordinal);
        }

        return validation.Utf8Length > MaxLabelBytes ? $"A label is at most {MaxLabelBytes} bytes of UTF-8." : null;
    }

    /// <summary>True when <paramref name="label"/> is a valid label (not null).</summary>
    public static bool IsValid(string? label) => Validate(label) is null;

    /// <summary>True when <paramref name="utf8Label"/> is a valid label given as UTF-8 (a WAL tag).</summary>
    public static bool IsValidUtf8(ReadOnlySpan<byte> utf8Label) =>
        utf8Label.Length <= MaxLabelBytes
        && utf8Label.IndexOfAny((byte)'*', (byte)',') < 0
        && KeyValidation.ValidateUtf8(utf8Label).IsValid;

    /// <summary>The entry key of (<paramref name="key"/>, <paramref name="label"/>); the key itself for the null label.</summary>
    public static string EntryKey(string key, string? label) => label is null ? key : string.Concat(key, "\0", label);

    /// <summary>The key of an entry key.</summary>
    public static string KeyOf(string entryKey)
    {
        var at = entryKey.IndexOf(Separator, StringComparison.Ordinal);
        return at < 0 ? entryKey : entryKey[..at];
    }

    /// <summary>The label of an entry key, or null for the null label.</summary>
    public static string? LabelOf(string entryKey)
    {
        var at = entryKey.IndexOf(Separator, StringComparison.Ordinal);
        return at < 0 ? null : entryKey[(at + 1)..];
    }

    /// <summary>Validates an entry key (a valid key, optionally a separator and a valid label); null when valid.</summary>
    public static string? ValidateEntryKey(string? entryKey)
    {
        if (entryKey is null)
        {
            return KeyValidation.Validate(entryKey).Message;
        }

        var at = entryKey.IndexOf(Separator, StringComparison.Ordinal);
        var key = KeyValidation.Validate(at < 0 ? entryKey : entryKey[..at]);
        if (!key.IsValid)
        {
            return key.Message;
        }

        return at < 0 ? null : Validate(entryKey[(at + 1)..]);
    }

    /// <summary>Validates an entry key given as UTF-8 (a checkpoint); true when valid.</summary>
    public static bool IsValidEntryKeyUtf8(ReadOnlySpan<byte> utf8EntryKey)
    {
        var at = utf8EntryKey.IndexOf((byte)0);
        return at < 0
            ? KeyValidation.ValidateUtf8(utf8EntryKey).IsValid
            : KeyValidation.ValidateUtf8(utf8EntryKey[..at]).IsValid && at + 1 < utf8EntryKey.Length && IsValidUtf8(utf8EntryKey[(at + 1)..]);
    }

    /// <summary>UTF-8 length of an entry key's key part and label part (-1 for the null label).</summary>
    internal static (int KeyBytes, int LabelBytes) Utf8Lengths(string entryKey)
    {
        var at = entryKey.IndexOf(Separator, StringComparison.Ordinal);
        return at < 0
            ? (Encoding.UTF8.GetByteCount(entryKey), -1)
            : (Encoding.UTF8.GetByteCount(entryKey.AsSpan(0, at)), Encoding.UTF8.GetByteCount(entryKey.AsSpan(at + 1)));
    }
}
