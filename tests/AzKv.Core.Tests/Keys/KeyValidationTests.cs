using System.Text;
using AzKv.Keys;

namespace AzKv.Core.Tests.Keys;

public sealed class KeyValidationTests
{
    [Theory]
    [InlineData("a", 1)]
    [InlineData("config/app/feature-x", 20)]
    [InlineData("with space and ~!@#$%^&*()", 26)]
    [InlineData("é", 2)]
    [InlineData("€", 3)]
    [InlineData("😀", 4)]
    [InlineData("\u00A0nbsp", 6)]
    [InlineData("\u200Bzero-width", 13)]
    public void Validate_WhenKeyIsWellFormed_ReturnsValidWithUtf8Length(string key, int expectedBytes)
    {
        var result = KeyValidation.Validate(key);

        Assert.True(result.IsValid);
        Assert.Equal(KeyValidationError.None, result.Error);
        Assert.Equal(expectedBytes, result.Utf8Length);
        Assert.Equal(Encoding.UTF8.GetByteCount(key), result.Utf8Length);
        Assert.Equal(string.Empty, result.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Validate_WhenKeyIsNullOrEmpty_ReturnsEmpty(string? key)
    {
        var result = KeyValidation.Validate(key);

        Assert.False(result.IsValid);
        Assert.Equal(KeyValidationError.Empty, result.Error);
        Assert.Contains("empty", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_WhenKeyIsExactly1024Bytes_ReturnsValid()
    {
        var key = new string('k', 1022) + "é";

        var result = KeyValidation.Validate(key);

        Assert.True(result.IsValid);
        Assert.Equal(1024, result.Utf8Length);
    }

    [Theory]
    [InlineData(1025, "k")]
    [InlineData(342, "€")]
    [InlineData(257, "😀")]
    [InlineData(100_000, "k")]
    public void Validate_WhenUtf8LengthExceeds1024_ReturnsTooLong(int repeat, string unit)
    {
        var key = string.Concat(Enumerable.Repeat(unit, repeat));

        var result = KeyValidation.Validate(key);

        Assert.Equal(KeyValidationError.TooLong, result.Error);
        Assert.True(result.Utf8Length > KeyValidation.MaxKeyBytes);
    }

    [Fact]
    public void Validate_WhenCharCountIsSmallButBytesExceedLimit_ReturnsTooLong()
    {
        // 512 chars but 1536 bytes: the limit is on encoded bytes, not characters.
        var key = new string('€', 512);

        Assert.Equal(KeyValidationError.TooLong, KeyValidation.Validate(key).Error);
    }

    [Theory]
    [InlineData("\u0000", 0)]
    [InlineData("a\u0001", 1)]
    [InlineData("ab\tc", 2)]
    [InlineData("line\n", 4)]
    [InlineData("\u001F", 0)]
    [InlineData("x\u007F", 1)]
    [InlineData("xy\u0080", 2)]
    [InlineData("\u009F", 0)]
    public void Validate_WhenKeyHasControlCharacter_ReturnsControlCharacterAtIndex(string key, int index)
    {
        var result = KeyValidation.Validate(key);

        Assert.Equal(KeyValidationError.ControlCharacter, result.Error);
        Assert.Equal(index, result.Position);
        Assert.Contains(index.ToString(System.Globalization.CultureInfo.InvariantCulture), result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_WhenCharacterIsJustOutsideControlRanges_ReturnsValid()
    {
        Assert.True(KeyValidation.Validate("\u0020\u007E\u00A0").IsValid);
    }

    // Lone surrogates cannot go through attribute metadata intact, so the case is built from its code unit.
    [Theory]
    [InlineData("", 0xD800, "", 0)]
    [InlineData("a", 0xDC00, "", 1)]
    [InlineData("ab", 0xD83D, "", 2)]
    [InlineData("", 0xD83D, "x", 0)]
    [InlineData("", 0xDE00, "\U0001F600", 0)]
    public void Validate_WhenKeyHasLoneSurrogate_ReturnsInvalidUtf16(string prefix, int unit, string suffix, int index)
    {
        var key = prefix + (char)unit + suffix;

        var result = KeyValidation.Validate(key);

        Assert.Equal(KeyValidationError.InvalidUtf16, result.Error);
        Assert.Equal(index, result.Position);
    }

    [Fact]
    public void Validate_WhenSurrogatesAreReversed_ReturnsInvalidUtf16AtFirst()
    {
        var key = "\uDE00\uD83D";

        Assert.Equal(KeyValidationError.InvalidUtf16, KeyValidation.Validate(key).Error);
        Assert.Equal(0, KeyValidation.Validate(key).Position);
    }

    [Fact]
    public void Validate_WhenEveryCharIsTried_AgreesWithCategoryCc()
    {
        for (var c = 0; c <= 0xFFFF; c++)
        {
            var ch = (char)c;
            var key = "k" + ch;
            var result = KeyValidation.Validate(key);
            if (char.IsSurrogate(ch))
            {
                Assert.Equal(KeyValidationError.InvalidUtf16, result.Error);
            }
            else if (char.GetUnicodeCategory(ch) == System.Globalization.UnicodeCategory.Control)
            {
                Assert.Equal(KeyValidationError.ControlCharacter, result.Error);
            }
            else
            {
                Assert.True(result.IsValid, $"U+{c:X4} should be allowed");
            }
        }
    }

    [Fact]
    public void Default_WhenNeverValidated_IsNotValid()
    {
        var result = default(KeyValidationResult);

        Assert.False(result.IsValid);
        Assert.Equal(KeyValidationError.Empty, result.Error);
    }

    [Theory]
    [InlineData(new byte[] { 0x61 }, KeyValidationError.None)]
    [InlineData(new byte[] { }, KeyValidationError.Empty)]
    [InlineData(new byte[] { 0x61, 0x00 }, KeyValidationError.ControlCharacter)]
    [InlineData(new byte[] { 0xC2, 0x85 }, KeyValidationError.ControlCharacter)]
    [InlineData(new byte[] { 0xC3 }, KeyValidationError.InvalidUtf8)]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, KeyValidationError.InvalidUtf8)]
    [InlineData(new byte[] { 0xC0, 0xAF }, KeyValidationError.InvalidUtf8)]
    [InlineData(new byte[] { 0xF0, 0x9F, 0x98, 0x80 }, KeyValidationError.None)]
    public void ValidateUtf8_WhenGivenBytes_ReturnsExpectedError(byte[] bytes, KeyValidationError expected)
    {
        Assert.Equal(expected, KeyValidation.ValidateUtf8(bytes).Error);
    }

    [Fact]
    public void ValidateUtf8_WhenLongerThan1024Bytes_ReturnsTooLong()
    {
        var bytes = Enumerable.Repeat((byte)'a', 1025).ToArray();

        Assert.Equal(KeyValidationError.TooLong, KeyValidation.ValidateUtf8(bytes).Error);
    }

    [Fact]
    public void ValidateUtf8_WhenGivenRandomStrings_AgreesWithValidate()
    {
        Property.ForAll(random =>
        {
            var chars = new char[random.Next(0, 12)];
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = random.Next(4) switch
                {
                    0 => (char)random.Next(0, 0xA0),
                    1 => (char)random.Next(0xD800, 0xE000),
                    _ => (char)random.Next(0, 0x10000),
                };
            }

            var key = new string(chars);
            var fromString = KeyValidation.Validate(key);
            if (fromString.Error == KeyValidationError.InvalidUtf16)
            {
                return;
            }

            var fromBytes = KeyValidation.ValidateUtf8(Encoding.UTF8.GetBytes(key));
            Assert.Equal(fromString.Error, fromBytes.Error);
            Assert.Equal(fromString.IsValid, fromBytes.IsValid);
        });
    }
}
