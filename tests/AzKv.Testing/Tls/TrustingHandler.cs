using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace AzKv.Testing.Tls;

/// <summary>Test clients of https nodes: a handler that trusts only one CA file (host names checked as usual).</summary>
public static class TrustingHandler
{
    /// <summary>A handler whose server certificates must name the host and chain to <paramref name="caFile"/>.</summary>
    public static SocketsHttpHandler Create(string caFile)
    {
        var ca = X509CertificateLoader.LoadCertificateFromFile(caFile);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (certificate is not X509Certificate2 leaf || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(leaf);
        };
        return handler;
    }
}
