using System.CommandLine;
using AzKv.Cli.Local;
using AzKv.Cli.Platform;

namespace AzKv.Cli.Commands;

/// <summary><c>azkv up</c>: a local cluster (Azurite and N nodes) until Ctrl-C.</summary>
internal static class UpCommand
{
    public static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = $"Node processes to start (1-{UpSettings.MaxNodes}).", DefaultValueFactory = _ => 1 };
        var basePort = new Option<int>("--base-port") { Description = "Port of node-1; node-i listens on base-port + i - 1.", DefaultValueFactory = _ => 8080 };
        var data = new Option<string?>("--data") { Description = "Folder for Azurite's data and the node logs, kept across runs. Default: data in memory, logs in a temp folder." };
        var region = new Option<string>("--region") { Description = "Region id of the nodes.", DefaultValueFactory = _ => "local" };
        var partitions = new Option<int>("--partitions") { Description = "Partitions, when the cluster is first created.", DefaultValueFactory = _ => 32 };
        var regions = new Option<int>("--regions") { Description = $"Regions (1-{UpSettings.MaxRegions}), each with --nodes nodes and its own storage account, replicating to each other. With more than one, region ids are <region>-1 ... <region>-R.", DefaultValueFactory = _ => 1 };
        var frontEnds = new Option<int>("--frontends") { Description = $"Front-end-only processes per region (0-{UpSettings.MaxNodes}), after the nodes' ports: they own no partition and forward every key to its owner, as the Functions app does in Azure. Printed as 'frontend <region> <nodeId> <url> <pid>'.", DefaultValueFactory = _ => 0 };
        var transport = new Option<string>("--transport") { Description = "How regions replicate with --regions: 'eventhubs' (a local Event Hubs stand-in in this process; every owner publishes to its region's hub) or 'blobtail' (regions tail each other's WAL blobs).", DefaultValueFactory = _ => UpSettings.EventHubsTransport };
        var noAuth = new Option<bool>("--no-auth") { Description = "Run without authentication: anyone who can reach a node's port may read and change every key. Default: auth on, with a local token issuer (docs/security.md)." };
        var https = new Option<bool>("--https") { Description = "Serve https: a local CA and a certificate for 127.0.0.1/localhost are made in <data>/tls (kept with --data), and 'ca <file>' names the CA to trust (the CLI, client and provider find it by themselves)." };
        var readyTimeout = new Option<int>("--ready-timeout") { Description = "Seconds every node has to become ready.", DefaultValueFactory = _ => 120 };

        var command = new Command(
            "up",
            "Start a local cluster: Azurite and N nodes on 127.0.0.1 (R regions of N nodes with --regions). Prints 'node <region> <nodeId> <url> <pid>' per node ('frontend ...' per front end with --frontends), 'logs <dir>', 'token <file>' (an admin token; not with --no-auth), 'ca <file>' (with --https), then 'ready'; runs until Ctrl-C.")
        {
            nodes, regions, frontEnds, basePort, data, region, partitions, transport, readyTimeout, noAuth, https,
        };

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            var settings = new UpSettings(
                parseResult.GetValue(nodes),
                parseResult.GetValue(basePort),
                parseResult.GetValue(data),
                parseResult.GetValue(region)!,
                parseResult.GetValue(partitions),
                TimeSpan.FromSeconds(parseResult.GetValue(readyTimeout)),
                parseResult.GetValue(regions),
                parseResult.GetValue(frontEnds),
                parseResult.GetValue(transport)!,
                parseResult.GetValue(noAuth),
                parseResult.GetValue(https));
            var problems = settings.Validate();
            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                {
                    await error.WriteLineAsync("azkv up: " + problem).ConfigureAwait(false);
                }

                return ExitCodes.Usage;
            }

            var processPath = Environment.ProcessPath;
            if (processPath is null)
            {
                await error.WriteLineAsync("azkv up: cannot tell which executable runs azkv, so cannot start the nodes.").ConfigureAwait(false);
                return ExitCodes.Error;
            }

            using var shutdown = new ShutdownSignal(cancellationToken);
            var cluster = new LocalCluster(settings, parseResult.InvocationConfiguration.Output, error, processPath, typeof(UpCommand).Assembly.Location);
            return await cluster.RunAsync(shutdown.Token).ConfigureAwait(false);
        });
        return command;
    }
}
