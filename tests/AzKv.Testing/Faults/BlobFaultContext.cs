namespace AzKv.Testing;

/// <summary>What a <see cref="BlobFaults.Callback"/> sees about the request it decides on.</summary>
/// <param name="Operation">The operation requested.</param>
/// <param name="BlobName">The blob name (the list prefix for <see cref="BlobOperation.List"/>; null for <see cref="BlobOperation.CreateContainer"/>).</param>
/// <param name="CallNumber">
/// 1 for the first request of this operation on this blob name, 2 for the second, and so on. Every
/// request that reaches the store counts, including ones a fault fails.
/// </param>
public sealed record BlobFaultContext(BlobOperation Operation, string? BlobName, int CallNumber);
