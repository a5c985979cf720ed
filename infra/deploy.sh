#!/usr/bin/env bash
# Deploys AzKv to an Azure subscription (docs/deploy.md):
#   1. publishes the server (framework-dependent) for the owner image;
#   2. publishes the isolated-worker Functions app (src/AzKv.Functions) and zips it: the front end's
#      package for Flex Consumption (runtime dotnet-isolated 10.0 provides .NET);
#   3. creates or updates the Entra ID app registrations (--auth EntraId, the default): the AzKv API
#      (app roles AzKv.Reader|Writer|Admin for people and apps, AzKv.Node for the region identities,
#      identifier URI api://<client id>, scope user_impersonation, v2.0 access tokens) and the web
#      console (a single-page application, pre-authorized on that scope);
#   4. deploys bicep/main.bicep with deployApps=false (storage, identities, roles, registry, network)
#      and gives every region identity the AzKv.Node app role;
#   5. builds the owner image in the registry (az acr build: no local Docker needed);
#   6. deploys bicep/main.bicep with deployApps=true (owner container apps, front-end function apps),
#      every node with AzKv__Auth__Mode EntraId and the same tenant and audience;
#   7. uploads the package to every region's function app, registers each front end's console
#      redirect URI (https://<host>/console/signin) and prints the front-end URLs.
# Every step is idempotent: run it again to roll out a new version.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly repo_root
readonly server_project="src/AzKv.Server/AzKv.Server.csproj"
readonly functions_project="src/AzKv.Functions/AzKv.Functions.csproj"
readonly template="bicep/main.bicep"
readonly image_repository="azkv-server"

usage() {
  cat <<'EOF'
Usage: infra/deploy.sh --prefix NAME --location LOCATION [options]

  --prefix NAME         prefix of every resource name (2-12 of a-z 0-9 -, starting with a letter)
  --location LOCATION   location of the subscription deployment's metadata, e.g. swedencentral
                        (keep it the same on every run)
  --parameters FILE     parameters file (default: bicep/main.parameters.json)
  --subscription ID     subscription to deploy to (default: the az CLI's current one)
  --image-tag TAG       tag of the owner image to build (default: UTC time + git commit)
  --auth MODE           EntraId (default: app registrations created or updated, every node
                        validates Entra ID tokens) or None (no authentication: a private test
                        deployment only)
  --what-if             show what the deployment would change first, then ask before deploying
                        (without a terminal: show it and stop)
  -h, --help            this help
EOF
}

die() {
  echo "deploy.sh: $*" >&2
  exit 1
}

step() {
  echo
  echo "==> $*"
}

require_command() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' was not found: $2"
}

# Reads the value of an option, failing clearly when it is missing.
option_value() {
  [[ $# -ge 2 && -n $2 && $2 != --* ]] || die "$1 needs a value (see --help)"
  printf '%s' "$2"
}

prefix=""
location=""
parameters="$repo_root/bicep/main.parameters.json"
subscription=""
image_tag=""
what_if=false
auth_mode="EntraId"

while [[ $# -gt 0 ]]; do
  case $1 in
    --prefix)
      prefix="$(option_value "$@")"
      shift 2
      ;;
    --location)
      location="$(option_value "$@")"
      shift 2
      ;;
    --parameters)
      parameters="$(option_value "$@")"
      shift 2
      ;;
    --subscription)
      subscription="$(option_value "$@")"
      shift 2
      ;;
    --image-tag)
      image_tag="$(option_value "$@")"
      shift 2
      ;;
    --what-if)
      what_if=true
      shift
      ;;
    --auth)
      auth_mode="$(option_value "$@")"
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      die "unknown option '$1' (see --help)"
      ;;
  esac
done

[[ -n $prefix ]] || die "--prefix is required (see --help)"
[[ $prefix =~ ^[a-z][a-z0-9-]{1,11}$ ]] ||
  die "--prefix must be 2-12 characters of a-z, 0-9 and -, starting with a letter"
[[ -n $location ]] || die "--location is required (see --help)"
[[ -f $parameters ]] || die "parameters file not found: $parameters"
[[ $auth_mode == EntraId || $auth_mode == None ]] || die "--auth must be EntraId or None"

step "Checking prerequisites"
require_command az "install the Azure CLI (https://learn.microsoft.com/cli/azure/install-azure-cli)"
require_command dotnet "install the .NET 10 SDK (https://dotnet.microsoft.com/download)"
require_command zip "install zip (for example: apt-get install zip)"
[[ -f "$repo_root/$server_project" ]] ||
  die "the server project $server_project does not exist: nothing to deploy"
[[ -f "$repo_root/$functions_project" ]] ||
  die "the Functions project $functions_project does not exist: the front end cannot be packaged"
az account show --output none 2>/dev/null || die "not logged in to Azure: run 'az login' first"

if [[ -n $subscription ]]; then
  az account set --subscription "$subscription"
fi
subscription_name="$(az account show --query name --output tsv)"
subscription_id="$(az account show --query id --output tsv)"
echo "Subscription: $subscription_name ($subscription_id)"

if [[ -z $image_tag ]]; then
  image_tag="$(date -u +%Y%m%d%H%M%S)"
  if commit="$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null)"; then
    image_tag="$image_tag-$commit"
  fi
fi
echo "Owner image tag: $image_tag"

readonly graph="https://graph.microsoft.com/v1.0"
readonly api_scope_value="user_impersonation"

new_uuid() {
  if [[ -r /proc/sys/kernel/random/uuid ]]; then
    cat /proc/sys/kernel/random/uuid
  else
    uuidgen | tr '[:upper:]' '[:lower:]'
  fi
}

# The client id of the app registration named $1, or nothing.
app_id_by_name() {
  az ad app list --display-name "$1" --query "[0].appId" --output tsv
}

# The id of the app role with value $2 on app $1, or a new one (ids of existing roles must not change).
app_role_id() {
  local id
  id="$(az ad app show --id "$1" --query "appRoles[?value=='$2'].id | [0]" --output tsv)"
  [[ -n $id ]] && printf '%s' "$id" || new_uuid
}

# The id of the delegated scope user_impersonation on app $1, or a new one.
api_scope_id() {
  local id
  id="$(az ad app show --id "$1" \
    --query "api.oauth2PermissionScopes[?value=='$api_scope_value'].id | [0]" --output tsv)"
  [[ -n $id ]] && printf '%s' "$id" || new_uuid
}

# One app role (JSON): id, value, display name, description, allowed member types (JSON array).
app_role_json() {
  printf '{"id": "%s", "value": "%s", "displayName": "%s", "description": "%s", "allowedMemberTypes": %s, "isEnabled": true}' \
    "$1" "$2" "$3" "$4" "$5"
}

graph_patch() {
  az rest --method PATCH --uri "$graph/applications/$1" \
    --headers "Content-Type=application/json" --body "$2" --output none
}

# Creates (or updates to the same shape) the AzKv API and console registrations; sets api_app_id,
# console_app_id, node_role_id and api_sp_id. The role values are the server's (AuthClaims in
# src/AzKv.Server/Security/LocalIssuer.cs): tokens carry them in the roles claim.
register_apps() {
  local api_name="$prefix-azkv-api" console_name="$prefix-azkv-console"
  api_app_id="$(app_id_by_name "$api_name")"
  if [[ -z $api_app_id ]]; then
    api_app_id="$(az ad app create --display-name "$api_name" --sign-in-audience AzureADMyOrg \
      --query appId --output tsv)"
    echo "Created the API app registration $api_name ($api_app_id)"
  fi
  console_app_id="$(app_id_by_name "$console_name")"
  if [[ -z $console_app_id ]]; then
    console_app_id="$(az ad app create --display-name "$console_name" --sign-in-audience AzureADMyOrg \
      --query appId --output tsv)"
    echo "Created the console app registration $console_name ($console_app_id)"
  fi

  local reader_id writer_id admin_id scope_id api_object_id console_object_id
  reader_id="$(app_role_id "$api_app_id" "AzKv.Reader")"
  writer_id="$(app_role_id "$api_app_id" "AzKv.Writer")"
  admin_id="$(app_role_id "$api_app_id" "AzKv.Admin")"
  node_role_id="$(app_role_id "$api_app_id" "AzKv.Node")"
  scope_id="$(api_scope_id "$api_app_id")"
  api_object_id="$(az ad app show --id "$api_app_id" --query id --output tsv)"
  console_object_id="$(az ad app show --id "$console_app_id" --query id --output tsv)"

  local people='["User", "Application"]' roles
  roles="$(app_role_json "$reader_id" "AzKv.Reader" "AzKv reader" "Read keys, list, watch, cluster and conflicts." "$people"),
    $(app_role_json "$writer_id" "AzKv.Writer" "AzKv writer" "Reader, and put and delete keys." "$people"),
    $(app_role_json "$admin_id" "AzKv.Admin" "AzKv admin" "Writer, and replication controls and role assignments." "$people"),
    $(app_role_json "$node_role_id" "AzKv.Node" "AzKv node" "AzKv nodes only: the node-to-node endpoints." '["Application"]')"
  graph_patch "$api_object_id" "{
    \"identifierUris\": [\"api://$api_app_id\"],
    \"appRoles\": [$roles],
    \"api\": {
      \"requestedAccessTokenVersion\": 2,
      \"oauth2PermissionScopes\": [{
        \"id\": \"$scope_id\", \"value\": \"$api_scope_value\", \"type\": \"User\", \"isEnabled\": true,
        \"adminConsentDisplayName\": \"Use AzKv as the signed-in user\",
        \"adminConsentDescription\": \"Call the AzKv API with the signed-in user's app roles.\",
        \"userConsentDisplayName\": \"Use AzKv as you\",
        \"userConsentDescription\": \"Call the AzKv API with your app roles.\"
      }],
      \"preAuthorizedApplications\": [{\"appId\": \"$console_app_id\", \"delegatedPermissionIds\": [\"$scope_id\"]}]
    }
  }"
  # The console: a single-page application (authorization code + PKCE, no secret) that asks for the
  # API's scope. Its redirect URIs are set once the front ends exist (set_console_redirect_uris).
  graph_patch "$console_object_id" "{
    \"requiredResourceAccess\": [{\"resourceAppId\": \"$api_app_id\",
      \"resourceAccess\": [{\"id\": \"$scope_id\", \"type\": \"Scope\"}]}]
  }"

  az ad sp show --id "$api_app_id" --output none 2>/dev/null ||
    az ad sp create --id "$api_app_id" --output none
  az ad sp show --id "$console_app_id" --output none 2>/dev/null ||
    az ad sp create --id "$console_app_id" --output none
  api_sp_id="$(az ad sp show --id "$api_app_id" --query id --output tsv)"
}

# Gives the identity with object id $1 the AzKv.Node app role on the API (once).
assign_node_role() {
  local count
  count="$(az rest --method GET --uri "$graph/servicePrincipals/$1/appRoleAssignments" \
    --query "length(value[?appRoleId=='$node_role_id' && resourceId=='$api_sp_id'])" --output tsv)"
  if [[ $count == 0 ]]; then
    az rest --method POST --uri "$graph/servicePrincipals/$1/appRoleAssignments" \
      --headers "Content-Type=application/json" \
      --body "{\"principalId\": \"$1\", \"resourceId\": \"$api_sp_id\", \"appRoleId\": \"$node_role_id\"}" \
      --output none
  fi
}

# The console's SPA redirect URIs: https://<front end>/console/signin for every region ($@ = host names).
set_console_redirect_uris() {
  local uris="" host console_object_id
  for host in "$@"; do
    uris+="${uris:+, }\"https://$host/console/signin\""
  done
  console_object_id="$(az ad app show --id "$console_app_id" --query id --output tsv)"
  graph_patch "$console_object_id" "{\"spa\": {\"redirectUris\": [$uris]}}"
}

tenant_id="$(az account show --query tenantId --output tsv)"
api_app_id=""
console_app_id=""
node_role_id=""
api_sp_id=""
auth_args=(--parameters "apiAuthentication=$auth_mode")
if [[ $auth_mode == EntraId ]]; then
  if [[ $what_if == true ]]; then
    # Read only: what exists now (a first run's what-if shows placeholders for the new ids).
    api_app_id="$(app_id_by_name "$prefix-azkv-api")"
    console_app_id="$(app_id_by_name "$prefix-azkv-console")"
    [[ -n $api_app_id ]] || api_app_id="00000000-0000-0000-0000-000000000000"
  else
    step "Entra ID app registrations (API $prefix-azkv-api, console $prefix-azkv-console)"
    register_apps
  fi
  auth_args+=(--parameters "authTenantId=$tenant_id" "authClientId=$api_app_id")
  if [[ -n $console_app_id ]]; then
    auth_args+=(--parameters "consoleClientId=$console_app_id" "consoleScope=api://$api_app_id/$api_scope_value")
  fi
  echo "API client id (the audience): $api_app_id; console client id: ${console_app_id:-(none yet)}"
fi

# Arguments shared by every deployment command.
deployment_args=(
  --location "$location"
  --template-file "$repo_root/$template"
  --parameters "@$parameters"
  --parameters "namePrefix=$prefix" "ownerImageTag=$image_tag"
  "${auth_args[@]}"
)

if [[ $what_if == true ]]; then
  step "What-if of the full deployment"
  az deployment sub what-if --name "$prefix-apps" "${deployment_args[@]}" --parameters deployApps=true
  if [[ -t 0 ]]; then
    read -r -p "Deploy these changes? [y/N] " answer
    [[ $answer == [yY] ]] || {
      echo "Nothing deployed."
      exit 0
    }
  else
    echo "No terminal to confirm on: nothing deployed."
    exit 0
  fi
fi

work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT
container_context="$work_dir/container"
function_root="$work_dir/functions"
function_package="$work_dir/azkv-functions.zip"

step "Publishing the server for the owner image (framework-dependent)"
dotnet publish "$repo_root/$server_project" --nologo --configuration Release \
  --runtime linux-x64 --self-contained false --output "$container_context/publish"
cp "$repo_root/infra/container/Dockerfile" "$container_context/Dockerfile"

step "Publishing the Functions app (isolated worker) for the front end"
# Framework-dependent: Flex Consumption's dotnet-isolated 10.0 runtime provides .NET. The Worker SDK
# writes host.json, worker.config.json and functions.metadata (the triggers) into the output.
dotnet publish "$repo_root/$functions_project" --nologo --configuration Release --output "$function_root"
for generated in host.json worker.config.json functions.metadata; do
  [[ -f "$function_root/$generated" ]] ||
    die "the Functions publish output has no $generated: is $functions_project an isolated-worker app?"
done
(cd "$function_root" && zip -q -r "$function_package" .)
package_bytes="$(wc -c <"$function_package")"
echo "Functions package: $package_bytes bytes"

step "Registering the resource providers (no-op when already registered)"
for namespace in Microsoft.App Microsoft.ContainerRegistry Microsoft.Insights \
  Microsoft.ManagedIdentity Microsoft.Network Microsoft.OperationalInsights \
  Microsoft.Storage Microsoft.Web; do
  az provider register --namespace "$namespace" --output none
done

step "Deploying the foundation (deployApps=false)"
az deployment sub create --name "$prefix-foundation" "${deployment_args[@]}" \
  --parameters deployApps=false --output none
registry_name="$(az deployment sub show --name "$prefix-foundation" \
  --query properties.outputs.registryName.value --output tsv)"

if [[ $auth_mode == EntraId ]]; then
  step "Giving every region identity the AzKv.Node app role (node-to-node calls)"
  identity_ids="$(az deployment sub show --name "$prefix-foundation" \
    --query "properties.outputs.regionDeployments.value[].identityPrincipalId" --output tsv)"
  for principal in $identity_ids; do
    assign_node_role "$principal"
  done
fi

step "Building $image_repository:$image_tag in registry $registry_name"
az acr build --registry "$registry_name" --image "$image_repository:$image_tag" \
  --file "$container_context/Dockerfile" "$container_context"

step "Deploying the owners and the front ends (deployApps=true)"
az deployment sub create --name "$prefix-apps" "${deployment_args[@]}" \
  --parameters deployApps=true --output none

# One line per region: region id, resource group, function app name (tab separated).
front_end_lines="$(az deployment sub show --name "$prefix-apps" \
  --query "properties.outputs.regionDeployments.value[].[id, resourceGroup, functionAppName]" \
  --output tsv)"
[[ -n $front_end_lines ]] || die "the deployment reported no region"
mapfile -t front_ends <<<"$front_end_lines"

for line in "${front_ends[@]}"; do
  IFS=$'\t' read -r region group app <<<"$line"
  step "Deploying the front-end package to $app ($region)"
  # On Flex Consumption the CLI does a "one deploy": the zip goes to the deployment container of
  # functionAppConfig (bicep/modules/functionApp.bicep) and the app restarts on it. Prebuilt: no
  # remote build.
  az functionapp deployment source config-zip --resource-group "$group" --name "$app" \
    --src "$function_package" --build-remote false --output none
done

step "Front-end URLs"
front_end_hosts=()
for line in "${front_ends[@]}"; do
  IFS=$'\t' read -r region group app <<<"$line"
  host_name="$(az functionapp show --resource-group "$group" --name "$app" \
    --query defaultHostName --output tsv)"
  front_end_hosts+=("$host_name")
  echo "  $region  https://$host_name  (console: https://$host_name/console)"
done

if [[ $auth_mode == EntraId ]]; then
  step "Registering the console's redirect URIs"
  set_console_redirect_uris "${front_end_hosts[@]}"
  echo "People and apps need an app role to use AzKv (AzKv.Reader, AzKv.Writer or AzKv.Admin), e.g.:"
  echo "  az rest --method POST --uri $graph/servicePrincipals/$api_sp_id/appRoleAssignedTo \\"
  echo "    --body '{\"principalId\": \"<user object id>\", \"resourceId\": \"$api_sp_id\", \"appRoleId\": \"<role id>\"}'"
  echo "  (role ids: az ad app show --id $api_app_id --query \"appRoles[].{value: value, id: id}\")"
fi
