using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AzKv.Local;

/// <summary>The files of a local https setup: the CA to trust, and the nodes' certificate and key (PEM).</summary>
/// <param name="CaCertificateFile">The CA certificate clients trust (<c>--ca-file</c>, <c>AZKV_CA_FILE</c>).</param>
/// <param name="CertificateFile">The nodes' certificate, for 127.0.0.1, ::1 and localhost, signed by the CA.</param>
/// <param name="KeyFile">The nodes' private key (owner read/write only).</param>
public sealed record LocalTlsFiles(string CaCertificateFile, string CertificateFile, string KeyFile);

/// <summary>
/// The certificate authority of <c>azkv up --https</c> (docs/security.md, "HTTPS"): a CA made once per data
/// directory (<c>tls/ca.crt</c>, its key <c>tls/ca.key</c> readable by the owner only) and a node certificate for
/// the loopback names it signs (<c>tls/node.crt</c>, <c>tls/node.key</c>), renewed when it nears its end. With
/// <c>--data</c> the CA outlives the run, so a client that trusts it once keeps working. For local use only: the
/// CA signs loopback names and nothing else, and no machine store is touched.
/// </summary>
public static class LocalCertificates
{
    /// <summary>How long the CA is valid.</summary>
    public static readonly TimeSpan CaLifetime = TimeSpan.FromDays(5 * 365);

    /// <summary>How long a node certificate is valid (the public CAs' upper bound).</summary>
    public static readonly TimeSpan CertificateLifetime = TimeSpan.FromDays(397);

    /// <summary>A certificate that ends sooner than this is replaced.</summary>
    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    /// <summary>Creates what is missing or nearly expired in <paramref name="directory"/>, keeps the rest.</summary>
    /// <exception cref="IOException">A file cannot be written, or an existing one cannot be read.</exception>
    public static LocalTlsFiles CreateOrLoad(string directory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        Directory.CreateDirectory(directory);
        var files = new LocalTlsFiles(Path.Combine(directory, "ca.crt"), Path.Combine(directory, "node.crt"), Path.Combine(directory, "node.key"));
        var caKeyFile = Path.Combine(directory, "ca.key");
        var now = time.GetUtcNow();
        using var ca = LoadValid(files.CaCertificateFile, caKeyFile, now) ?? CreateCa(files.CaCertificateFile, caKeyFile, now);
        using var node = LoadValid(files.CertificateFile, files.KeyFile, now);
        if (node is null || !IsIssuedBy(node, ca, now))
        {
            CreateNodeCertificate(ca, files, now);
        }

        return files;
    }

    private static X509Certificate2? LoadValid(string certificateFile, string keyFile, DateTimeOffset now)
    {
        if (!File.Exists(certificateFile) || !File.Exists(keyFile))
        {
            return null;
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            throw new IOException($"'{certificateFile}' with '{keyFile}' is not a PEM certificate and its key ({ex.Message}); delete both to have new ones made.", ex);
        }

        if (certificate.NotAfter.ToUniversalTime() - RenewBefore > now.UtcDateTime && certificate.NotBefore.ToUniversalTime() <= now.UtcDateTime)
        {
            return certificate;
        }

        certificate.Dispose();
        return null;
    }

    private static X509Certificate2 CreateCa(string certificateFile, string keyFile, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=AzKv local CA ({Environment.MachineName}), O=AzKv azkv up", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now + CaLifetime);
        WritePrivate(keyFile, key.ExportPkcs8PrivateKeyPem());
        WritePublic(certificateFile, certificate.ExportCertificatePem());
        return certificate;
    }

    private static void CreateNodeCertificate(X509Certificate2 ca, LocalTlsFiles files, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost, O=AzKv azkv up", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build(critical: false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var notAfter = now + CertificateLifetime < ca.NotAfter.ToUniversalTime() ? now + CertificateLifetime : new DateTimeOffset(ca.NotAfter.ToUniversalTime());
        using var certificate = request.Create(ca, now.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));
        WritePrivate(files.KeyFile, key.ExportPkcs8PrivateKeyPem());
        WritePublic(files.CertificateFile, certificate.ExportCertificatePem());
    }

    /// <summary>True when <paramref name="certificate"/> chains to <paramref name="ca"/> alone, valid at <paramref name="now"/>.</summary>
    public static bool IsIssuedBy(X509Certificate2 certificate, X509Certificate2 ca, DateTimeOffset now)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        return chain.Build(certificate);
    }

    private static void WritePublic(string path, string text) => File.WriteAllText(path, text + "\n");

    private static void WritePrivate(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(path, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), options);
        writer.Write(text + "\n");
    }
}
