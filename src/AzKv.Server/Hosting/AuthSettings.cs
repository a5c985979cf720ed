namespace AzKv.Server.Hosting;

/// <summary>Authentication and request limits per caller (docs/security.md).</summary>
public sealed class AuthSettings
{
    /// <summary>The modes <see cref="Mode"/> accepts.</summary>
    public const string None = "None";

    /// <summary>Tokens of the local issuer (<c>azkv up</c>): only with a signing key file.</summary>
    public const string Local = "Local";

    /// <summary>Entra ID bearer tokens.</summary>
    public const string EntraId = "EntraId";

    /// <summary>
    /// <c>None</c> (no authentication: everyone is an admin; only behind a private network),
    /// <c>Local</c> (the local issuer of <c>azkv up</c>) or <c>EntraId</c>.
    /// </summary>
    public string Mode { get; set; } = None;

    /// <summary>Local mode: the file holding the local issuer's signing key (written by <c>azkv up</c>).</summary>
    public string? SigningKeyFile { get; set; }

    /// <summary>Entra ID: the tenant id (a GUID).</summary>
    public string? TenantId { get; set; }

    /// <summary>Entra ID: the audience tokens must carry (the app registration's application id URI or client id).</summary>
    public string? Audience { get; set; }

    /// <summary>Entra ID: the authority host; tests and sovereign clouds set it. Default: the public cloud.</summary>
    public string Instance { get; set; } = "https://login.microsoftonline.com/";

    /// <summary>Entra ID: comma-separated client application ids allowed to call (the token's <c>azp</c>/<c>appid</c>); empty: any client of the tenant.</summary>
    public string? AllowedClientIds { get; set; }

    /// <summary>
    /// Entra ID: the client id (a GUID) of the web console's app registration (a single-page
    /// application whose redirect URI is <c>https://&lt;host&gt;/console/signin</c>). When set, the console
    /// offers "Sign in with Microsoft" (authorization code flow with PKCE); when not, it asks for a pasted token.
    /// </summary>
    public string? ConsoleClientId { get; set; }

    /// <summary>
    /// Entra ID: the API scope the console asks for. Default: <c>&lt;Audience&gt;/.default</c> (every
    /// permission the console's registration was granted on the AzKv API).
    /// </summary>
    public string? ConsoleScope { get; set; }

    /// <summary>Serve <c>/metrics</c> without a token (for a scraper inside the network). Default: a reader token is needed.</summary>
    public bool AnonymousMetrics { get; set; }

    /// <summary>Serve <c>/openapi/*</c> without a token. Default: a reader token is needed.</summary>
    public bool AnonymousOpenApi { get; set; }

    /// <summary>Requests per second each principal may make (token bucket); 0 turns the limit off. Node identities are not limited.</summary>
    public int RequestsPerSecond { get; set; } = 1000;

    /// <summary>Requests a principal may make at once above the rate (the bucket's size).</summary>
    public int Burst { get; set; } = 2000;

    /// <summary>Hours the audit log (<c>audit/</c> blobs) is kept before it is deleted.</summary>
    public int AuditRetentionHours { get; set; } = 168;

    /// <summary>True unless <see cref="Mode"/> is <c>None</c>.</summary>
    public bool Enabled => Mode != None;

    /// <summary>The scope the console asks for: <see cref="ConsoleScope"/>, else <c>&lt;Audience&gt;/.default</c>.</summary>
    public string EffectiveConsoleScope =>
        !string.IsNullOrWhiteSpace(ConsoleScope) ? ConsoleScope.Trim() : (Audience ?? string.Empty).TrimEnd('/') + "/.default";

    /// <summary>The Entra ID authority of the tenant: <c>&lt;Instance&gt;&lt;TenantId&gt;</c>, without a trailing slash.</summary>
    public string Authority => (Instance.EndsWith('/') ? Instance : Instance + "/") + TenantId;

    /// <summary>The allowed client ids, parsed.</summary>
    public IReadOnlyList<string> AllowedClientIdList =>
        (AllowedClientIds ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    internal void Validate(List<string> errors)
    {
        switch (Mode)
        {
            case None:
                break;
            case Local:
                if (string.IsNullOrWhiteSpace(SigningKeyFile))
                {
                    errors.Add("AzKv__Auth__SigningKeyFile is missing: Local mode needs the local issuer's key file (azkv up writes it to its data directory).");
                }
                else if (!File.Exists(SigningKeyFile))
                {
                    errors.Add($"AzKv__Auth__SigningKeyFile '{SigningKeyFile}' does not exist.");
                }

                break;
            case EntraId:
                if (!Guid.TryParse(TenantId, out _))
                {
                    errors.Add($"AzKv__Auth__TenantId '{TenantId}' is invalid: EntraId mode needs the tenant id, a GUID.");
                }

                if (string.IsNullOrWhiteSpace(Audience))
                {
                    errors.Add("AzKv__Auth__Audience is missing: EntraId mode needs the audience of the AzKv app registration (api://<client id> or the client id).");
                }

                if (!Uri.TryCreate(Instance, UriKind.Absolute, out var instance) || instance.Scheme is not ("https" or "http") || (instance.Scheme == "http" && !instance.IsLoopback))
                {
                    errors.Add($"AzKv__Auth__Instance '{Instance}' is invalid: use an https URL such as https://login.microsoftonline.com/.");
                }

                if (AllowedClientIdList.Any(id => !Guid.TryParse(id, out _)))
                {
                    errors.Add("AzKv__Auth__AllowedClientIds is invalid: list client application ids (GUIDs) separated by commas.");
                }

                if (!string.IsNullOrWhiteSpace(ConsoleClientId))
                {
                    if (!Guid.TryParse(ConsoleClientId, out _))
                    {
                        errors.Add($"AzKv__Auth__ConsoleClientId '{ConsoleClientId}' is invalid: use the client id (a GUID) of the console's single-page-application registration.");
                    }
                    else if (AllowedClientIdList.Count > 0 && !AllowedClientIdList.Contains(ConsoleClientId.Trim(), StringComparer.OrdinalIgnoreCase))
                    {
                        errors.Add($"AzKv__Auth__ConsoleClientId '{ConsoleClientId}' is not in AzKv__Auth__AllowedClientIds: the node would refuse the console's own tokens; add it there.");
                    }
                }
                else if (!string.IsNullOrWhiteSpace(ConsoleScope))
                {
                    errors.Add("AzKv__Auth__ConsoleScope is set without AzKv__Auth__ConsoleClientId: the scope is only used by the console's Entra ID sign-in; set both or neither.");
                }

                if (!string.IsNullOrWhiteSpace(ConsoleScope) && ConsoleScope.Trim().Any(char.IsWhiteSpace))
                {
                    errors.Add($"AzKv__Auth__ConsoleScope '{ConsoleScope}' is invalid: give one scope, such as api://azkv/.default or api://azkv/user_impersonation.");
                }

                if (!string.IsNullOrWhiteSpace(SigningKeyFile))
                {
                    errors.Add("AzKv__Auth__SigningKeyFile is set in EntraId mode: a node accepts the local issuer only in Local mode; remove it.");
                }

                break;
            default:
                errors.Add($"AzKv__Auth__Mode '{Mode}' is invalid: use 'None', 'Local' or 'EntraId'.");
                break;
        }

        if ((Mode is None or Local) && (!string.IsNullOrWhiteSpace(ConsoleClientId) || !string.IsNullOrWhiteSpace(ConsoleScope)))
        {
            errors.Add($"AzKv__Auth__ConsoleClientId / AzKv__Auth__ConsoleScope are set in {Mode} mode: the console's Microsoft sign-in needs EntraId mode; remove them.");
        }

        if (RequestsPerSecond < 0 || RequestsPerSecond > 1_000_000)
        {
            errors.Add($"AzKv__Auth__RequestsPerSecond {RequestsPerSecond} is out of range (0 = off, up to 1000000).");
        }

        if (RequestsPerSecond > 0 && (Burst < 1 || Burst > 10_000_000))
        {
            errors.Add($"AzKv__Auth__Burst {Burst} is out of range (1–10000000).");
        }

        if (AuditRetentionHours < 1 || AuditRetentionHours > 24 * 3660)
        {
            errors.Add($"AzKv__Auth__AuditRetentionHours {AuditRetentionHours} is out of range (1–87840).");
        }
    }
}
