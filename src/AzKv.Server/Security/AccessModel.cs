namespace AzKv.Server.Security;

/// <summary>The roles of docs/security.md, each including the ones before it.</summary>
public enum AccessRole
{
    /// <summary>get, list, watch, cluster, conflicts.</summary>
    Reader = 1,

    /// <summary>Reader + put and delete.</summary>
    Writer = 2,

    /// <summary>Writer + conflict policy, replication controls, role assignments.</summary>
    Admin = 3,
}

/// <summary>One grant: a role, over every key (no prefixes) or over the keys under any of <paramref name="Prefixes"/>.</summary>
/// <param name="Role">The role.</param>
/// <param name="Prefixes">Key prefixes; empty means every key.</param>
public sealed record AccessGrant(AccessRole Role, IReadOnlyList<string> Prefixes)
{
    /// <summary>True when the grant is over every key.</summary>
    public bool IsUnscoped => Prefixes.Count == 0 || Prefixes.Contains(string.Empty);

    /// <summary>True when the grant covers <paramref name="key"/>.</summary>
    public bool CoversKey(string key) => IsUnscoped || Prefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal));

    /// <summary>
    /// True when every key under <paramref name="prefix"/> is covered: a listing or watch of
    /// <paramref name="prefix"/> is allowed only then (it is refused, not filtered; docs/security.md).
    /// </summary>
    public bool CoversPrefix(string prefix) => IsUnscoped || Prefixes.Any(p => prefix.StartsWith(p, StringComparison.Ordinal));

    /// <summary>The role's name as the API and CLI spell it.</summary>
    public static string Name(AccessRole role) => role switch
    {
        AccessRole.Reader => "reader",
        AccessRole.Writer => "writer",
        AccessRole.Admin => "admin",
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    /// <summary>Parses <c>reader|writer|admin</c>.</summary>
    public static bool TryParseRole(string? text, out AccessRole role)
    {
        role = text switch
        {
            "reader" => AccessRole.Reader,
            "writer" => AccessRole.Writer,
            "admin" => AccessRole.Admin,
            _ => 0,
        };
        return role != 0;
    }
}

/// <summary>Who is calling, as authorization sees it: immutable, computed once per request.</summary>
/// <param name="Authenticated">False when auth is off (then the caller holds one unscoped admin grant).</param>
/// <param name="Subject">The token's subject (object id for Entra), or null.</param>
/// <param name="Grants">What the caller may do.</param>
/// <param name="IsNode">A node identity: may call the internal node-to-node endpoints.</param>
public sealed record AccessPrincipal(bool Authenticated, string? Subject, IReadOnlyList<AccessGrant> Grants, bool IsNode)
{
    /// <summary>The caller when auth is off: everything is allowed.</summary>
    public static AccessPrincipal Open { get; } = new(false, null, [new AccessGrant(AccessRole.Admin, [])], IsNode: true);

    /// <summary>The client application the token was issued to (<c>azp</c>, else <c>appid</c>), or null.</summary>
    public string? ClientId { get; init; }

    /// <summary>Who this caller is in a WAL record (tag 4): null when auth is off or the subject is unusable.</summary>
    public AzKv.Wal.WriterIdentity? Writer => Authenticated ? AzKv.Wal.WriterIdentity.TryCreate(Subject, ClientId) : null;

    /// <summary>True when some grant of at least <paramref name="role"/> covers <paramref name="key"/>.</summary>
    public bool CanAccessKey(AccessRole role, string key) => Grants.Any(g => g.Role >= role && g.CoversKey(key));

    /// <summary>True when some grant of at least <paramref name="role"/> covers every key under <paramref name="prefix"/>.</summary>
    public bool CanAccessPrefix(AccessRole role, string prefix) => Grants.Any(g => g.Role >= role && g.CoversPrefix(prefix));

    /// <summary>True when some grant of at least <paramref name="role"/> covers any key at all.</summary>
    public bool HasRole(AccessRole role) => Grants.Any(g => g.Role >= role);

    /// <summary>True when an unscoped grant of at least <paramref name="role"/> is held.</summary>
    public bool HasUnscopedRole(AccessRole role) => Grants.Any(g => g.Role >= role && g.IsUnscoped);
}
