using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AzKv.Client.Http;

/// <summary>
/// The one rule for trusting an https server by a CA file rather than the machine's store (docs/security.md,
/// "HTTPS"): the server's certificate must name the host that was dialled and chain to one of the CA
/// certificates of the file; the machine's roots are not consulted, and nothing else is relaxed. Used by the
/// client, the CLI and, linked into the server, by node-to-node calls.
/// </summary>
internal static class CustomRootTrust
{
    /// <summary>Reads the PEM certificates of <paramref name="pemFile"/>.</summary>
    /// <exception cref="IOException">The file cannot be read or holds no certificate; the message names the file.</exception>
    public static X509Certificate2Collection Load(string pemFile)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(pemFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new IOException($"The CA file '{pemFile}' cannot be read: {ex.Message}", ex);
        }

        return roots.Count > 0 ? roots : throw new IOException($"The CA file '{pemFile}' holds no PEM certificate (-----BEGIN CERTIFICATE-----).");
    }

    /// <summary>Makes <paramref name="handler"/> trust servers whose certificates chain to <paramref name="roots"/>.</summary>
    public static void Apply(SocketsHttpHandler handler, X509Certificate2Collection roots) =>
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => IsTrusted(roots, certificate, chain, errors);

    /// <summary>True when <paramref name="certificate"/> names the host and chains to one of <paramref name="roots"/>.</summary>
    public static bool IsTrusted(X509Certificate2Collection roots, X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);

        // A private CA publishes no revocation list; its certificates are short-lived instead.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        if (certificate is X509Certificate2 leaf)
        {
            return chain.Build(leaf);
        }

        using var copy = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(copy);
    }
}
