namespace AzKv.Versioning;

/// <summary>The outcome of a local write: the key's new state and the write clock to log and ship.</summary>
/// <param name="State">The sibling set after the write.</param>
/// <param name="Write">The DVV clock of the write (context, dot, version); <c>previous.Apply(Write) == State</c>.</param>
public readonly record struct WriteResult(SiblingSet State, CausalWrite Write);
