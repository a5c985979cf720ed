using System.CommandLine;
using AzKv.Cli.Client;
using AzKv.Cli.Commands;
using AzKv.Cli.Local;

var root = new RootCommand("azkv: the command line of AzKv, a multi-region key-value store on Azure Blob Storage.");
root.Options.Add(ClientOptions.Url);
root.Options.Add(ClientOptions.CaFile);
root.Subcommands.Add(PutCommand.Create());
root.Subcommands.Add(GetCommand.Create());
root.Subcommands.Add(DeleteCommand.Create());
root.Subcommands.Add(ListCommand.Create());
root.Subcommands.Add(WatchCommand.Create());
root.Subcommands.Add(ClusterCommand.Create());
root.Subcommands.Add(FlagCommand.Create());
root.Subcommands.Add(UpCommand.Create());
root.Subcommands.Add(TokenCommand.Create());
root.Subcommands.Add(RoleCommand.Create());
root.Subcommands.Add(SnapshotCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(BenchCommand.Create());

// Commands that must stop cleanly (up, serve, watch) handle SIGINT/SIGTERM themselves; the
// library's default would end the process 2 s after the signal, before nodes hand over.
var configuration = new InvocationConfiguration { ProcessTerminationTimeout = null };
return await root.Parse(args).InvokeAsync(configuration).ConfigureAwait(false);
