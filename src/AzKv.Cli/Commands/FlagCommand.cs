using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AzKv.Cli.Client;
using AzKv.Cli.Output;
using AzKv.Client;

namespace AzKv.Cli.Commands;

/// <summary>
/// <c>azkv flag set|enable|disable|list</c>: feature flags stored as keys
/// <c>.appconfig.featureflag/&lt;name&gt;</c> in the Microsoft feature-flag schema
/// (docs/configuration-provider.md), which the configuration provider hands to
/// Microsoft.FeatureManagement. Every change is a compare-and-swap of the whole flag document, so
/// properties this command does not know (variants, allocation, telemetry) are kept.
/// </summary>
internal static class FlagCommand
{
    /// <summary>Compare-and-swap attempts when someone else writes the same flag at the same time.</summary>
    private const int MaxWriteAttempts = 5;

    public static Command Create()
    {
        var command = new Command(
            "flag",
            $"Manage feature flags: keys {AzKvFeatureFlags.KeyPrefix}<name> in the Microsoft feature-flag schema, read by Microsoft.FeatureManagement through the AzKv configuration provider.")
        {
            CreateSet(),
            CreateToggle("enable", enabled: true),
            CreateToggle("disable", enabled: false),
            CreateList(),
        };
        return command;
    }

    private static Argument<string> NameArgument() => new("name")
    {
        Description = "The flag name, e.g. Beta: letters, digits, '.', '-' and '_'.",
        Validators =
        {
            result =>
            {
                if (!AzKvFeatureFlags.IsValidName(result.GetValueOrDefault<string>()))
                {
                    result.AddError($"'{result.GetValueOrDefault<string>()}' is not a valid flag name: use letters, digits, '.', '-' and '_' (no ':' or '/').");
                }
            },
        },
    };

    private static Command CreateSet()
    {
        var name = NameArgument();
        var enabled = new Option<bool>("--enabled") { Description = "Turn the flag on." };
        var disabled = new Option<bool>("--disabled") { Description = "Turn the flag off (a new flag starts off)." };
        var filter = new Option<string[]>("--filter")
        {
            Description = "A client filter: JSON such as '{\"name\":\"Microsoft.Percentage\",\"parameters\":{\"Value\":50}}', or just a filter name. Repeat for several; replaces the flag's filters.",
            HelpName = "json",
        };
        var noFilters = new Option<bool>("--no-filters") { Description = "Remove every client filter." };
        var requirement = new Option<string?>("--requirement-type") { Description = "Any (default) or All: whether one filter or every filter must pass." };
        requirement.AcceptOnlyFromAmong("Any", "All");

        var command = new Command("set", "Create or update a flag; prints its name, state and whether it was created or replaced.")
        {
            name, enabled, disabled, filter, noFilters, requirement,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(enabled) && result.GetValue(disabled))
            {
                result.AddError("--enabled and --disabled cannot be used together.");
            }

            var filters = result.GetValue(filter) ?? [];
            if (filters.Length > 0 && result.GetValue(noFilters))
            {
                result.AddError("--filter and --no-filters cannot be used together.");
            }

            foreach (var text in filters)
            {
                if (!TryParseFilter(text, out _, out var error))
                {
                    result.AddError($"--filter '{text}': {error}");
                }
            }
        });

        command.SetClientAction((client, context, cancellationToken) =>
        {
            var parse = context.ParseResult;
            bool? state = parse.GetValue(enabled) ? true : parse.GetValue(disabled) ? false : null;
            var filters = parse.GetValue(filter) ?? [];
            var clearFilters = parse.GetValue(noFilters);
            var requirementType = parse.GetValue(requirement);
            return UpdateAsync(client, context, parse.GetValue(name)!, createIfMissing: true, flag =>
            {
                if (state is { } on)
                {
                    flag["enabled"] = on;
                }

                if (filters.Length > 0 || clearFilters || requirementType is not null)
                {
                    var conditions = flag["conditions"] as JsonObject ?? [];
                    flag["conditions"] = conditions;
                    if (filters.Length > 0 || clearFilters)
                    {
                        var list = new JsonArray();
                        foreach (var text in filters)
                        {
                            TryParseFilter(text, out var parsed, out _);
                            list.Add(parsed);
                        }

                        conditions["client_filters"] = list;
                    }

                    if (requirementType is not null)
                    {
                        conditions["requirement_type"] = requirementType;
                    }
                }
            }, cancellationToken);
        });
        return command;
    }

    private static Command CreateToggle(string verb, bool enabled)
    {
        var name = NameArgument();
        var command = new Command(verb, $"Turn an existing flag {(enabled ? "on" : "off")} (exit code 3 when there is no such flag: create it with `flag set`).") { name };
        command.SetClientAction((client, context, cancellationToken) =>
            UpdateAsync(client, context, context.ParseResult.GetValue(name)!, createIfMissing: false, flag => flag["enabled"] = enabled, cancellationToken));
        return command;
    }

    private static Command CreateList()
    {
        var json = new Option<bool>("--json") { Description = "Print each flag's JSON document, one per line, instead of a table." };
        var command = new Command("list", "List the feature flags with their state and client filters.") { json };
        command.Aliases.Add("ls");
        command.SetClientAction(async (client, context, cancellationToken) =>
        {
            var asJson = context.ParseResult.GetValue(json);
            var table = new Table("NAME", "ENABLED", "FILTERS");
            await foreach (var item in client.ListAsync(AzKvFeatureFlags.KeyPrefix, AzKvClient.MaxPageSize, includeValues: true, cancellationToken).ConfigureAwait(false))
            {
                var name = AzKvFeatureFlags.NameOf(item.Key);
                if (name is null)
                {
                    continue;
                }

                var bytes = item.Value?.ToArray() ?? [];
                var flag = TryParseFlag(bytes);
                if (asJson)
                {
                    await context.Output.WriteLineAsync(flag?.ToJsonString() ?? Encoding.UTF8.GetString(bytes)).ConfigureAwait(false);
                    continue;
                }

                if (flag is null)
                {
                    table.Add(name, "invalid", "(not a JSON object)");
                    continue;
                }

                var on = flag["enabled"] is JsonValue value && value.TryGetValue<bool>(out var b) && b;
                var filters = (flag["conditions"]?["client_filters"] as JsonArray ?? [])
                    .Select(f => f?["name"]?.GetValue<string>() ?? "?")
                    .ToArray();
                table.Add(name, on ? "yes" : "no", filters.Length == 0 ? "-" : string.Join(",", filters));
            }

            if (!asJson)
            {
                await table.WriteAsync(context.Output).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Reads the flag, changes it, writes it back on its ETag; retries when someone else wrote in between.</summary>
    private static async Task<int> UpdateAsync(AzKvClient client, CommandContext context, string name, bool createIfMissing, Action<JsonObject> change, CancellationToken cancellationToken)
    {
        var key = AzKvFeatureFlags.KeyFor(name);
        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            var entry = await client.GetAsync(key, cancellationToken).ConfigureAwait(false);
            JsonObject flag;
            KvCondition condition;
            if (entry is null)
            {
                if (!createIfMissing)
                {
                    await context.Error.WriteLineAsync($"azkv: flag {name}: not found (create it with `azkv flag set {name} --enabled`).").ConfigureAwait(false);
                    return ExitCodes.NotFound;
                }

                flag = new JsonObject
                {
                    ["id"] = name,
                    ["enabled"] = false,
                    ["conditions"] = new JsonObject { ["client_filters"] = new JsonArray() },
                };
                condition = KvCondition.IfNoneMatch;
            }
            else if (entry.HasSiblings)
            {
                await context.Error.WriteLineAsync(
                    $"azkv: flag {name} has {entry.Siblings.Count} concurrent versions; see them with `azkv get {key}` and write the merged one with `azkv put {key} --if-match`.").ConfigureAwait(false);
                return ExitCodes.Siblings;
            }
            else
            {
                var existing = TryParseFlag(entry.Value.ToArray());
                if (existing is null)
                {
                    await context.Error.WriteLineAsync($"azkv: flag {name}: the stored value is not a JSON object; replace it with `azkv put {key}` or delete it.").ConfigureAwait(false);
                    return ExitCodes.Error;
                }

                flag = existing;
                condition = KvCondition.IfMatch(entry.ETag);
            }

            change(flag);
            flag["id"] = name;
            var bytes = Encoding.UTF8.GetBytes(flag.ToJsonString());
            var result = await client.TryPutAsync(key, bytes, AzKvFeatureFlags.ContentType, condition, cancellationToken).ConfigureAwait(false);
            if (result is not null)
            {
                var on = flag["enabled"] is JsonValue value && value.TryGetValue<bool>(out var b) && b;
                await context.Output.WriteLineAsync($"{name} {(on ? "enabled" : "disabled")} {(result.Created ? "created" : "replaced")}").ConfigureAwait(false);
                return ExitCodes.Ok;
            }
        }

        await context.Error.WriteLineAsync($"azkv: flag {name} kept changing under this command ({MaxWriteAttempts} attempts); try again.").ConfigureAwait(false);
        return ExitCodes.PreconditionFailed;
    }

    private static JsonObject? TryParseFlag(byte[] value)
    {
        try
        {
            return JsonNode.Parse(value) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A filter given as JSON (an object with a string "name") or as a bare filter name.</summary>
    internal static bool TryParseFilter(string text, out JsonObject filter, out string error)
    {
        filter = [];
        error = string.Empty;
        var trimmed = text.Trim();
        if (!trimmed.StartsWith('{'))
        {
            if (trimmed.Length == 0)
            {
                error = "a filter needs a name, e.g. Microsoft.Targeting.";
                return false;
            }

            filter = new JsonObject { ["name"] = trimmed };
            return true;
        }

        try
        {
            if (JsonNode.Parse(trimmed) is JsonObject parsed && parsed["name"] is JsonValue name && name.TryGetValue<string>(out var value) && value.Length > 0)
            {
                filter = parsed;
                return true;
            }

            error = "the JSON object needs a string \"name\", e.g. {\"name\":\"Microsoft.Percentage\",\"parameters\":{\"Value\":50}}.";
            return false;
        }
        catch (JsonException ex)
        {
            error = "not valid JSON: " + ex.Message;
            return false;
        }
    }
}
