namespace AzKv.Extensions.Configuration.Mapping;

/// <summary>One AzKv key as the provider keeps it: what the store holds, before mapping.</summary>
/// <param name="Key">The AzKv key.</param>
/// <param name="ContentType">Its content type.</param>
/// <param name="Value">Its value bytes.</param>
internal sealed record StoredItem(string Key, string ContentType, byte[] Value);
