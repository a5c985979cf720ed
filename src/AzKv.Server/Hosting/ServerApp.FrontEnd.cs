using AzKv.Server.Api;
using AzKv.Server.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AzKv.Server;

public static partial class ServerApp
{
    /// <summary>The only value of <c>AzKv__Roles</c> a front end accepts.</summary>
    private const string FrontEndRole = "frontend";

    /// <summary>
    /// Registers a stateless front end in a host that is not the node's own web application (the
    /// Azure Functions isolated worker): the node's services with the <c>frontend</c> role only (it
    /// joins membership to see the owners, and never takes a lease or owns a partition), and
    /// <see cref="FrontEndApi"/>, which serves the node's endpoints by name. Settings are read and
    /// validated as a node's (docs/configuration.md); an invalid one throws, naming the setting.
    /// </summary>
    public static IServiceCollection AddAzKvFrontEnd(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var configuredRoles = configuration[ServerOptions.Section + ":" + nameof(ServerOptions.Roles)];
        if (!string.IsNullOrWhiteSpace(configuredRoles) && configuredRoles.Trim() != FrontEndRole)
        {
            throw new ConfigurationException([$"AzKv__Roles '{configuredRoles}' is invalid for the Functions front end: it holds no lease and owns no partition, so use '{FrontEndRole}' or leave it unset."]);
        }

        var options = ReadOptions(configuration);
        options.Roles = FrontEndRole;

        // Nothing calls a front end but its host; the address recorded in membership names the app.
        var hostName = configuration["WEBSITE_HOSTNAME"];
        var endpoint = !string.IsNullOrWhiteSpace(options.AdvertisedUrl) ? options.AdvertisedUrl
            : !string.IsNullOrWhiteSpace(hostName) ? "https://" + hostName
            : options.Urls.Split(';')[0].Trim();
        AddNodeServices(services, configuration, options, endpoint);
        services.AddRouting();
        services.AddSingleton<FrontEndApi>();
        return services;
    }
}
