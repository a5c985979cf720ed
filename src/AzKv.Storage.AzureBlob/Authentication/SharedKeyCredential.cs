using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace AzKv.Storage.AzureBlob.Authentication;

/// <summary>
/// A storage account name and its key. The key never leaves this type: it is not exposed,
/// formatted, logged or compared; only signatures computed with it are.
/// </summary>
internal sealed class SharedKeyCredential
{
    private readonly byte[] _key;

    public SharedKeyCredential(string accountName, byte[] key)
    {
        ArgumentException.ThrowIfNullOrEmpty(accountName);
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length == 0)
        {
            throw new ArgumentException("The account key is empty.", nameof(key));
        }

        AccountName = accountName;
        _key = (byte[])key.Clone();
    }

    public string AccountName { get; }

    /// <summary>Base64 of HMAC-SHA256(key, UTF-8(<paramref name="stringToSign"/>)).</summary>
    public string ComputeSignature(string stringToSign)
    {
        int maxBytes = Encoding.UTF8.GetMaxByteCount(stringToSign.Length);
        byte[] rented = ArrayPool<byte>.Shared.Rent(maxBytes);
        try
        {
            int length = Encoding.UTF8.GetBytes(stringToSign, rented);
            Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
            HMACSHA256.HashData(_key, rented.AsSpan(0, length), hash);
            return Convert.ToBase64String(hash);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Never includes the key.</summary>
    public override string ToString() => $"SharedKey account '{AccountName}'";
}
