namespace AzKv.Keys;

/// <summary>Why a key was rejected. Stable: the HTTP layer maps each kind to a problem type.</summary>
public enum KeyValidationError
{
    /// <summary>The key is valid.</summary>
    None = 0,

    /// <summary>The key is null or has no characters.</summary>
    Empty = 1,

    /// <summary>The key's UTF-8 encoding is longer than <see cref="KeyValidation.MaxKeyBytes"/> bytes.</summary>
    TooLong = 2,

    /// <summary>The key contains a character of Unicode category Cc (U+0000–U+001F, U+007F–U+009F).</summary>
    ControlCharacter = 3,

    /// <summary>The key (a .NET string) contains a lone surrogate, so it has no UTF-8 encoding.</summary>
    InvalidUtf16 = 4,

    /// <summary>The key bytes (as read from storage or the wire) are not well-formed UTF-8.</summary>
    InvalidUtf8 = 5,
}
