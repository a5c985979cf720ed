using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AzKv.Client.Http;

namespace AzKv.Server.Hosting;

/// <summary>
/// HTTPS on a node (docs/security.md, "HTTPS"): a PEM certificate and key that Kestrel serves on every https URL of
/// <c>AzKv__Urls</c>, and a PEM file of CA certificates the node trusts instead of the machine's store when it calls
/// other nodes (forwarding) over https. In Azure, TLS ends at the Functions / Container Apps ingress with the
/// platform's certificates and these stay unset; <c>azkv up --https</c> sets all three.
/// </summary>
public sealed class TlsSettings
{
    /// <summary>The node's certificate (PEM); required when <c>AzKv__Urls</c> has an https URL.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>The certificate's private key (PEM, PKCS#8 or the algorithm's own form).</summary>
    public string? KeyFile { get; set; }

    /// <summary>CA certificates (PEM) that other nodes' certificates must chain to; unset: the machine's store.</summary>
    public string? CaFile { get; set; }

    /// <summary>Loads the node's certificate; null when none is configured.</summary>
    /// <exception cref="CryptographicException">The files are not a PEM certificate and a key.</exception>
    /// <exception cref="ArgumentException">The key is not the certificate's.</exception>
    public X509Certificate2? LoadCertificate() =>
        string.IsNullOrWhiteSpace(CertificateFile) ? null : X509Certificate2.CreateFromPemFile(CertificateFile, string.IsNullOrWhiteSpace(KeyFile) ? null : KeyFile);

    /// <summary>The CA certificates of <see cref="CaFile"/>; null when unset.</summary>
    /// <exception cref="IOException">The file cannot be read or holds no certificate.</exception>
    public X509Certificate2Collection? LoadTrustedRoots() =>
        string.IsNullOrWhiteSpace(CaFile) ? null : CustomRootTrust.Load(CaFile);

    internal void Validate(string urls, List<string> errors)
    {
        var https = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Any(url => url.StartsWith("https:", StringComparison.OrdinalIgnoreCase));
        if (string.IsNullOrWhiteSpace(CertificateFile) != string.IsNullOrWhiteSpace(KeyFile))
        {
            errors.Add("AzKv__Tls__CertificateFile and AzKv__Tls__KeyFile go together: set both (PEM certificate and its key) or neither.");
        }
        else if (string.IsNullOrWhiteSpace(CertificateFile))
        {
            if (https)
            {
                errors.Add("AzKv__Urls has an https URL, so AzKv__Tls__CertificateFile and AzKv__Tls__KeyFile must name the node's PEM certificate and key.");
            }
        }
        else
        {
            try
            {
                using var certificate = LoadCertificate()!;
                if (!certificate.HasPrivateKey)
                {
                    errors.Add($"AzKv__Tls__KeyFile '{KeyFile}' does not hold the private key of AzKv__Tls__CertificateFile '{CertificateFile}'.");
                }
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                errors.Add($"AzKv__Tls__CertificateFile '{CertificateFile}' with AzKv__Tls__KeyFile '{KeyFile}' cannot be loaded as a PEM certificate and key: {ex.Message}");
            }
        }

        if (!string.IsNullOrWhiteSpace(CaFile))
        {
            try
            {
                _ = LoadTrustedRoots();
            }
            catch (IOException ex)
            {
                errors.Add($"AzKv__Tls__CaFile: {ex.Message}");
            }
        }
    }
}
