using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AzKv.Cli.Client;
using AzKv.Cli.Output;

namespace AzKv.Cli.Commands;

/// <summary><c>azkv cluster</c>: the answering node's view of its region.</summary>
internal static class ClusterCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the status as JSON." };
        var command = new Command("cluster", "Show the region's nodes and partition owners.") { json };
        command.SetClientAction(async (client, context, cancellationToken) =>
        {
            var status = await client.GetClusterAsync(cancellationToken).ConfigureAwait(false);
            var output = context.Output;
            if (context.ParseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(status, CliJsonContext.Indented.ClusterStatus)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var serving = status.Partitions.Count(p => p.Serving);
            await output.WriteLineAsync($"region      {status.Region}").ConfigureAwait(false);
            await output.WriteLineAsync($"answered by {status.NodeId}").ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"partitions  {status.PartitionCount} ({serving} serving)")).ConfigureAwait(false);
            await output.WriteLineAsync().ConfigureAwait(false);

            var nodes = new Table("NODE", "ENDPOINT", "ROLES", "PARTITIONS");
            foreach (var node in status.Nodes)
            {
                var owned = status.Partitions.Count(p => p.Owner == node.NodeId);
                nodes.Add(node.NodeId, node.Endpoint, string.Join(',', node.Roles), owned.ToString(CultureInfo.InvariantCulture));
            }

            await nodes.WriteAsync(output).ConfigureAwait(false);
            await output.WriteLineAsync().ConfigureAwait(false);

            var partitions = new Table("PARTITION", "OWNER", "EPOCH", "LSN", "SERVING");
            foreach (var partition in status.Partitions)
            {
                partitions.Add(
                    partition.Id.ToString(CultureInfo.InvariantCulture),
                    partition.Owner ?? "-",
                    partition.Epoch.ToString(CultureInfo.InvariantCulture),
                    partition.Lsn.ToString(CultureInfo.InvariantCulture),
                    partition.Serving ? "yes" : "no");
            }

            await partitions.WriteAsync(output).ConfigureAwait(false);
            foreach (var replication in status.Replication)
            {
                var lag = replication.LagMilliseconds is { } ms ? string.Create(CultureInfo.InvariantCulture, $"{ms} ms") : "unknown";
                await output.WriteLineAsync($"replication from {replication.Region}: lag {lag}").ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
