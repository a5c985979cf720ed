using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AzKv.Cli.Client;
using AzKv.Client.Auth;

namespace AzKv.Cli.Commands;

/// <summary>
/// <c>azkv role assign|list|remove</c>: prefix-scoped grants stored in the cluster (admin only;
/// docs/security.md). Talks to the first <c>--url</c>, an owner node, with the ambient token.
/// </summary>
internal static class RoleCommand
{
    public static Command Create()
    {
        var assignPrincipal = new Argument<string>("principal") { Description = "Entra object id, group id, or a local token's subject." };
        var assignRole = new Option<string>("--role") { Description = "reader, writer or admin.", Required = true };
        assignRole.AcceptOnlyFromAmong("reader", "writer", "admin");
        var prefixes = new Option<string[]>("--prefix") { Description = "Limit the grant to keys under this prefix (repeatable). Default: every key." };
        var assign = new Command("assign", "Grant a role to a principal, optionally limited to key prefixes.") { assignPrincipal, assignRole, prefixes };
        assign.SetAction((parseResult, cancellationToken) => SendAsync(
            parseResult,
            HttpMethod.Put,
            $"/v1/auth/roles/{Uri.EscapeDataString(parseResult.GetValue(assignPrincipal)!)}/{parseResult.GetValue(assignRole)}",
            JsonSerializer.Serialize(new Dictionary<string, string[]> { ["prefixes"] = parseResult.GetValue(prefixes) ?? [] }),
            cancellationToken));

        var removePrincipal = new Argument<string>("principal") { Description = "The principal." };
        var removeRole = new Option<string>("--role") { Description = "reader, writer or admin.", Required = true };
        removeRole.AcceptOnlyFromAmong("reader", "writer", "admin");
        var remove = new Command("remove", "Remove a principal's grant of a role.") { removePrincipal, removeRole };
        remove.SetAction((parseResult, cancellationToken) => SendAsync(
            parseResult,
            HttpMethod.Delete,
            $"/v1/auth/roles/{Uri.EscapeDataString(parseResult.GetValue(removePrincipal)!)}/{parseResult.GetValue(removeRole)}",
            null,
            cancellationToken));

        var list = new Command("list", "Print the stored grants as JSON.");
        list.SetAction((parseResult, cancellationToken) => SendAsync(parseResult, HttpMethod.Get, "/v1/auth/roles", null, cancellationToken));

        return new Command("role", "Prefix-scoped grants stored in the cluster (admin).") { assign, list, remove };
    }

    private static async Task<int> SendAsync(ParseResult parseResult, HttpMethod method, string path, string? body, CancellationToken cancellationToken)
    {
        var error = parseResult.InvocationConfiguration.Error;
        IReadOnlyList<Uri> endpoints;
        try
        {
            endpoints = ClientOptions.ParseEndpoints(parseResult.GetValue(ClientOptions.Url)!);
        }
        catch (ArgumentException ex)
        {
            await error.WriteLineAsync("azkv: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        using var handler = new SocketsHttpHandler();
        if (ClientOptions.CaFileOrAmbient(parseResult, endpoints) is { } caFile)
        {
            try
            {
                AzKv.Client.Http.CustomRootTrust.Apply(handler, AzKv.Client.Http.CustomRootTrust.Load(caFile));
            }
            catch (IOException ex)
            {
                await error.WriteLineAsync("azkv: --ca-file: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.Usage;
            }
        }

        using var http = new HttpClient(handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(method, new Uri(endpoints[0], path));
        if (AmbientToken.ReadNow(endpoints) is { } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        try
        {
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                await error.WriteLineAsync($"azkv role: {(int)response.StatusCode} {text}").ConfigureAwait(false);
                return response.StatusCode == HttpStatusCode.NotFound ? ExitCodes.NotFound : ExitCodes.Error;
            }

            if (text.Length > 0)
            {
                await parseResult.InvocationConfiguration.Output.WriteLineAsync(text).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        }
        catch (HttpRequestException ex)
        {
            await error.WriteLineAsync($"azkv role: {endpoints[0]} could not be reached: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.Error;
        }
    }
}
