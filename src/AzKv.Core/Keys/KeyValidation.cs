using System.Text;

namespace AzKv.Keys;

/// <summary>
/// The one definition of a valid key: 1 to <see cref="MaxKeyBytes"/> bytes of well-formed UTF-8 with no character of
/// Unicode category Cc (U+0000–U+001F, U+007F–U+009F). Everything else (spaces, '/', emoji, format characters) is allowed.
/// </summary>
/// <remarks>
/// Validation scans left to right and reports the first problem it meets; <see cref="KeyValidationError.TooLong"/> is
/// reported as soon as the running UTF-8 length passes the limit, so a very long string costs at most ~1 KiB of work.
/// </remarks>
public static class KeyValidation
{
    /// <summary>Maximum key length in UTF-8 bytes.</summary>
    public const int MaxKeyBytes = 1024;

    /// <summary>Validates a key given as a .NET string. Never throws.</summary>
    public static KeyValidationResult Validate(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return KeyValidationResult.Invalid(KeyValidationError.Empty);
        }

        var bytes = 0;
        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (c < 0x80)
            {
                if (c < 0x20 || c == 0x7F)
                {
                    return KeyValidationResult.Invalid(KeyValidationError.ControlCharacter, i);
                }

                bytes += 1;
            }
            else if (c < 0x800)
            {
                if (c <= 0x9F)
                {
                    return KeyValidationResult.Invalid(KeyValidationError.ControlCharacter, i);
                }

                bytes += 2;
            }
            else if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= key.Length || !char.IsLowSurrogate(key[i + 1]))
                {
                    return KeyValidationResult.Invalid(KeyValidationError.InvalidUtf16, i);
                }

                i++;
                bytes += 4;
            }
            else if (char.IsLowSurrogate(c))
            {
                return KeyValidationResult.Invalid(KeyValidationError.InvalidUtf16, i);
            }
            else
            {
                bytes += 3;
            }

            if (bytes > MaxKeyBytes)
            {
                return KeyValidationResult.Invalid(KeyValidationError.TooLong, utf8Length: bytes);
            }
        }

        return KeyValidationResult.Valid(bytes);
    }

    /// <summary>
    /// Validates a key given as UTF-8 bytes (a decoded WAL record, a checkpoint). Positions are byte offsets.
    /// Never throws.
    /// </summary>
    public static KeyValidationResult ValidateUtf8(ReadOnlySpan<byte> utf8Key)
    {
        if (utf8Key.IsEmpty)
        {
            return KeyValidationResult.Invalid(KeyValidationError.Empty);
        }

        if (utf8Key.Length > MaxKeyBytes)
        {
            return KeyValidationResult.Invalid(KeyValidationError.TooLong, utf8Length: utf8Key.Length);
        }

        var offset = 0;
        while (offset < utf8Key.Length)
        {
            if (Rune.DecodeFromUtf8(utf8Key[offset..], out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return KeyValidationResult.Invalid(KeyValidationError.InvalidUtf8, offset);
            }

            if (IsControl(rune.Value))
            {
                return KeyValidationResult.Invalid(KeyValidationError.ControlCharacter, offset);
            }

            offset += consumed;
        }

        return KeyValidationResult.Valid(utf8Key.Length);
    }

    /// <summary>True when <paramref name="key"/> is valid; shorthand for <c>Validate(key).IsValid</c>.</summary>
    public static bool IsValid(string? key) => Validate(key).IsValid;

    private static bool IsControl(int codePoint) => codePoint < 0x20 || (codePoint >= 0x7F && codePoint <= 0x9F);
}
