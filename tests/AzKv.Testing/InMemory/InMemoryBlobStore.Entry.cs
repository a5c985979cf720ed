using AzKv.Storage;

namespace AzKv.Testing;

/// <summary>What the store keeps per blob. Guarded by the store's lock.</summary>
public sealed partial class InMemoryBlobStore
{
    private sealed class BlobEntry
    {
        private byte[] _data;

        public BlobEntry(BlobKind kind, byte[] data, BlobLease lease)
        {
            Kind = kind;
            _data = data;
            Length = data.Length;
            Lease = lease;
        }

        public BlobKind Kind { get; }

        public BlobLease Lease { get; }

        /// <summary>The content is <c>Data[..Length]</c>; an append blob's buffer has spare capacity.</summary>
        public byte[] Data => _data;

        public long Length { get; private set; }

        public int BlockCount { get; set; }

        public bool IsSealed { get; set; }

        public string ContentType { get; init; } = DefaultContentType;

        public Dictionary<string, string> Metadata { get; set; } = NewMetadata();

        public string ETag { get; set; } = string.Empty;

        public DateTimeOffset LastModified { get; set; }

        /// <summary>Appends <paramref name="block"/>, doubling the buffer when full, so appends cost O(block) amortised.</summary>
        public void Append(ReadOnlySpan<byte> block)
        {
            var needed = Length + block.Length;
            if (needed > Array.MaxLength)
            {
                throw new InvalidOperationException($"The in-memory store keeps a blob in one array; {needed} bytes do not fit.");
            }

            if (needed > _data.Length)
            {
                var capacity = Math.Clamp(Math.Max(needed, 2L * _data.Length), 256, Array.MaxLength);
                Array.Resize(ref _data, (int)capacity);
            }

            block.CopyTo(_data.AsSpan((int)Length));
            Length = needed;
        }
    }
}
