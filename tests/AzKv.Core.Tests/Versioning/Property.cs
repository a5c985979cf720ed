using System.Globalization;

namespace AzKv.Core.Tests;

/// <summary>
/// Seeded random property checks (FsCheck is not available here). Each case gets its own seed, derived from a fixed
/// base so runs are reproducible; set AZKV_TEST_SEED to explore other seeds. A failure names the seed of its case.
/// </summary>
internal static class Property
{
    /// <summary>Default number of cases per property.</summary>
    public const int DefaultCases = 500;

    private static readonly int BaseSeed = ReadBaseSeed();

    /// <summary>Runs <paramref name="property"/> for <paramref name="cases"/> seeds; rethrows the first failure with its seed.</summary>
    public static void ForAll(Action<Random> property, int cases = DefaultCases, int salt = 0)
    {
        for (var i = 0; i < cases; i++)
        {
            var seed = unchecked(BaseSeed + (salt * 1_000_003) + i);
            try
            {
                property(new Random(seed));
            }
            catch (Exception ex)
            {
                throw new PropertyFailedException(
                    string.Create(CultureInfo.InvariantCulture, $"Property failed on case {i} with seed {seed} (base {BaseSeed}): {ex.Message}"),
                    ex);
            }
        }
    }

    /// <summary>Random bytes of a random length up to <paramref name="maxLength"/>.</summary>
    public static byte[] NextBytes(this Random random, int maxLength)
    {
        var bytes = new byte[random.Next(0, maxLength + 1)];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>A random element.</summary>
    public static T Pick<T>(this Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    private static int ReadBaseSeed()
    {
        var text = Environment.GetEnvironmentVariable("AZKV_TEST_SEED");
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) ? seed : 20_260_101;
    }
}

/// <summary>A property check failed; the message carries the seed to replay it.</summary>
internal sealed class PropertyFailedException : Exception
{
    public PropertyFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
