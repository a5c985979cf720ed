using System.CommandLine;
using AzKv.Cli.Commands;

var root = new RootCommand("azkv: tools for the AzKv multi-region key-value store.");
root.Subcommands.Add(BenchCommand.Create());
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
