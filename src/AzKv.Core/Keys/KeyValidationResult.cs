using System.Globalization;

namespace AzKv.Keys;

/// <summary>
/// The outcome of <see cref="KeyValidation.Validate(string?)"/>. A <c>default</c> instance is not valid: it reads as
/// <see cref="KeyValidationError.Empty"/>, so forgetting to validate never looks like success.
/// </summary>
public readonly struct KeyValidationResult : IEquatable<KeyValidationResult>
{
    private readonly KeyValidationError _error;
    private readonly bool _isChecked;

    private KeyValidationResult(KeyValidationError error, int utf8Length, int position)
    {
        _error = error;
        _isChecked = true;
        Utf8Length = utf8Length;
        Position = position;
    }

    /// <summary>True when the key may be stored.</summary>
    public bool IsValid => _isChecked && _error == KeyValidationError.None;

    /// <summary>What is wrong, or <see cref="KeyValidationError.None"/>.</summary>
    public KeyValidationError Error => _isChecked ? _error : KeyValidationError.Empty;

    /// <summary>
    /// Length of the key in UTF-8 bytes when valid. When <see cref="KeyValidationError.TooLong"/>, the number of bytes
    /// counted before validation stopped (always more than the limit). Otherwise 0.
    /// </summary>
    public int Utf8Length { get; }

    /// <summary>
    /// Index of the offending element: a UTF-16 char index for string input, a byte index for UTF-8 input;
    /// -1 when the error has no position (valid, empty, too long).
    /// </summary>
    public int Position { get; }

    /// <summary>A human-readable explanation suitable for an RFC 9457 <c>detail</c>; empty when valid.</summary>
    public string Message => Error switch
    {
        KeyValidationError.None => string.Empty,
        KeyValidationError.Empty => "The key is empty; a key must have 1 to 1024 bytes of UTF-8.",
        KeyValidationError.TooLong => string.Create(
            CultureInfo.InvariantCulture,
            $"The key is longer than {KeyValidation.MaxKeyBytes} bytes of UTF-8."),
        KeyValidationError.ControlCharacter => string.Create(
            CultureInfo.InvariantCulture,
            $"The key contains a control character at position {Position}."),
        KeyValidationError.InvalidUtf16 => string.Create(
            CultureInfo.InvariantCulture,
            $"The key contains a lone surrogate at index {Position}, so it has no UTF-8 encoding."),
        KeyValidationError.InvalidUtf8 => string.Create(
            CultureInfo.InvariantCulture,
            $"The key bytes are not well-formed UTF-8 at byte {Position}."),
        _ => "The key is invalid.",
    };

    internal static KeyValidationResult Valid(int utf8Length) => new(KeyValidationError.None, utf8Length, -1);

    internal static KeyValidationResult Invalid(KeyValidationError error, int position = -1, int utf8Length = 0) =>
        new(error, utf8Length, position);

    /// <inheritdoc/>
    public bool Equals(KeyValidationResult other) =>
        Error == other.Error && Utf8Length == other.Utf8Length && Position == other.Position;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is KeyValidationResult other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Error, Utf8Length, Position);

    /// <inheritdoc/>
    public override string ToString() => IsValid ? "Valid" : $"{Error}: {Message}";

    /// <summary>Value equality.</summary>
    public static bool operator ==(KeyValidationResult left, KeyValidationResult right) => left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(KeyValidationResult left, KeyValidationResult right) => !left.Equals(right);
}
