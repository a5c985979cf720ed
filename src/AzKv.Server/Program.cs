return await AzKv.Server.ServerApp.RunAsync(args, CancellationToken.None).ConfigureAwait(false);
