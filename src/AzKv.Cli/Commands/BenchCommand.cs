using System.CommandLine;

namespace AzKv.Cli.Commands;

/// <summary><c>azkv bench</c>: measurements against a real store. Benchmarks print numbers; they are not tests.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Measure storage performance.");
        command.Subcommands.Add(BenchAppendCommand.Create());
        command.Subcommands.Add(BenchEngineCommand.Create());
        command.Subcommands.Add(BenchHttpCommand.Create());
        command.Subcommands.Add(BenchWatchCommand.Create());
        return command;
    }
}
