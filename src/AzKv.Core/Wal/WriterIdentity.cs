using System.Text;

namespace AzKv.Wal;

/// <summary>
/// Who made a write (WAL tag 4, docs/record-format.md): the caller's subject (the Entra object id, else the token's
/// <c>sub</c>) and the client application (<c>azp</c>/<c>appid</c>), when it has one. When is the record's HLC.
/// </summary>
public sealed record WriterIdentity
{
    /// <summary>Longest subject or client id, in UTF-8 bytes.</summary>
    public const int MaxPartBytes = 255;

    /// <summary>Creates an identity.</summary>
    /// <exception cref="ArgumentException">The subject is not 1–255 UTF-8 bytes without control characters, or the client id is not 0–255.</exception>
    public WriterIdentity(string subject, string? clientId = null)
    {
        if (!IsValidPart(subject, allowEmpty: false))
        {
            throw new ArgumentException("A writer's subject is 1–255 UTF-8 bytes without control characters.", nameof(subject));
        }

        if (clientId is not null && !IsValidPart(clientId, allowEmpty: true))
        {
            throw new ArgumentException("A writer's client id is 0–255 UTF-8 bytes without control characters.", nameof(clientId));
        }

        Subject = subject;
        ClientId = string.IsNullOrEmpty(clientId) ? null : clientId;
    }

    /// <summary>The caller's subject (object id for Entra ID).</summary>
    public string Subject { get; }

    /// <summary>The client application id (<c>azp</c>/<c>appid</c>), or null.</summary>
    public string? ClientId { get; }

    /// <summary>An identity, or null when <paramref name="subject"/> is missing or either part is not valid (never throws).</summary>
    public static WriterIdentity? TryCreate(string? subject, string? clientId)
    {
        if (subject is null || !IsValidPart(subject, allowEmpty: false))
        {
            return null;
        }

        return new WriterIdentity(subject, clientId is not null && IsValidPart(clientId, allowEmpty: true) ? clientId : null);
    }

    /// <summary>Size of the tag 4 value: u8 subject length, subject, u8 client length, client.</summary>
    internal int EncodedLength => 2 + Encoding.UTF8.GetByteCount(Subject) + (ClientId is null ? 0 : Encoding.UTF8.GetByteCount(ClientId));

    /// <summary>Writes the tag 4 value; returns its length.</summary>
    internal int WriteTo(Span<byte> destination)
    {
        var subjectLength = Encoding.UTF8.GetBytes(Subject, destination[1..]);
        destination[0] = (byte)subjectLength;
        var offset = 1 + subjectLength;
        var clientLength = ClientId is null ? 0 : Encoding.UTF8.GetBytes(ClientId, destination[(offset + 1)..]);
        destination[offset] = (byte)clientLength;
        return offset + 1 + clientLength;
    }

    /// <summary>Validates a tag 4 value and returns its two parts (slices of <paramref name="value"/>).</summary>
    internal static bool TryParse(ReadOnlySpan<byte> value, out ReadOnlySpan<byte> subject, out ReadOnlySpan<byte> clientId)
    {
        subject = default;
        clientId = default;
        if (value.Length < 2)
        {
            return false;
        }

        int subjectLength = value[0];
        if (subjectLength == 0 || value.Length < 1 + subjectLength + 1)
        {
            return false;
        }

        subject = value.Slice(1, subjectLength);
        int clientLength = value[1 + subjectLength];
        if (value.Length != 2 + subjectLength + clientLength)
        {
            return false;
        }

        clientId = value.Slice(2 + subjectLength, clientLength);
        return IsValidPart(subject) && IsValidPart(clientId);
    }

    /// <summary>The identity a validated tag 4 value holds.</summary>
    internal static WriterIdentity FromParts(ReadOnlySpan<byte> subject, ReadOnlySpan<byte> clientId) =>
        new(Encoding.UTF8.GetString(subject), clientId.IsEmpty ? null : Encoding.UTF8.GetString(clientId));

    private static bool IsValidPart(string text, bool allowEmpty)
    {
        if (text.Length == 0)
        {
            return allowEmpty;
        }

        if (Encoding.UTF8.GetByteCount(text) > MaxPartBytes)
        {
            return false;
        }

        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsControl(rune) || rune == Rune.ReplacementChar)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsValidPart(ReadOnlySpan<byte> utf8)
    {
        while (!utf8.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(utf8, out var rune, out var consumed) != System.Buffers.OperationStatus.Done || Rune.IsControl(rune))
            {
                return false;
            }

            utf8 = utf8[consumed..];
        }

        return true;
    }
}
