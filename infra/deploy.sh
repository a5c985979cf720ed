#!/usr/bin/env bash
# Deploys AzKv to an Azure subscription (docs/deploy.md):
#   1. publishes the server (framework-dependent) for the owner image;
#   2. publishes the isolated-worker Functions app (src/AzKv.Functions) and zips it: the front end's
#      package for Flex Consumption (runtime dotnet-isolated 10.0 provides .NET);
#   3. deploys bicep/main.bicep with deployApps=false (storage, identities, roles, registry, network);
#   4. builds the owner image in the registry (az acr build: no local Docker needed);
#   5. deploys bicep/main.bicep with deployApps=true (owner container apps, front-end function apps);
#   6. uploads the package to every region's function app and prints the front-end URLs.
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

# Arguments shared by every deployment command.
deployment_args=(
  --location "$location"
  --template-file "$repo_root/$template"
  --parameters "@$parameters"
  --parameters "namePrefix=$prefix" "ownerImageTag=$image_tag"
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
for line in "${front_ends[@]}"; do
  IFS=$'\t' read -r region group app <<<"$line"
  host_name="$(az functionapp show --resource-group "$group" --name "$app" \
    --query defaultHostName --output tsv)"
  echo "  $region  https://$host_name"
done
