// AzKv on Azure: one full cluster per region (docs/deploy.md).
//
// Order of deployment, kept explicit so cross-region role assignments are plain:
//   1. a resource group per region
//   2. storage of every region (data account + Functions host account)
//   3. a user-assigned identity per region, then its roles:
//        Storage Blob Data Contributor on its own data account,
//        Storage Blob Data Reader on every other region's data account,
//        Storage Blob Data Owner on its own Functions host account,
//        AcrPull on the container registry,
//        Azure Event Hubs Data Sender on its own hub, Data Receiver on every other region's hub
//        (each region: an Event Hubs namespace, Standard, with the hub azkv-<region> and a
//        consumer group per other region; docs/replication.md)
//   4. the container registry (primary region)
//   5. per region: network, monitoring, Container Apps environment, private DNS, and, when
//      deployApps is true, the owner container apps and the Flex Consumption front end.
// infra/deploy.sh runs this twice: deployApps=false, then builds the image, then deployApps=true.
targetScope = 'subscription'

// Built-in role definition ids (the same in every tenant of the public cloud).
var roleStorageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor
var roleStorageBlobDataReader = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1' // Storage Blob Data Reader
var roleStorageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
var roleAcrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d' // AcrPull
var roleEventHubsDataSender = '2b629674-e913-4c01-ae53-ef4638d8f975' // Azure Event Hubs Data Sender
var roleEventHubsDataReceiver = 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde' // Azure Event Hubs Data Receiver

type regionConfig = {
  @description('AzKv region id (AzKv__Region): lowercase letters, digits and hyphens. It is part of every version vector: never change it for a region that holds data. At most 12 characters here, to keep resource names short.')
  @minLength(1)
  @maxLength(12)
  id: string

  @description('Azure location of the region, e.g. swedencentral. It must offer Container Apps and Flex Consumption.')
  location: string
}

@description('Regions, each a full AzKv cluster. The first is the primary: it also holds the container registry. Append to add a region; never reorder or remove (the order numbers the peers and the address spaces).')
@minLength(1)
@maxLength(8)
param regions regionConfig[]

@description('Prefix of every resource name: 2-12 lowercase letters, digits or hyphens, starting with a letter.')
@minLength(2)
@maxLength(12)
param namePrefix string

@description('false: foundation only (resource groups, storage, identities, roles, registry, network, monitoring, Container Apps environments). true: also the owner container apps and the front-end function apps.')
param deployApps bool = true

@description('Tag of the azkv-server image in the registry that the owners run (deploy.sh passes the tag it built).')
param ownerImageTag string

@description('Blob container of each region\'s data (AzKv__Storage__Container).')
param dataContainerName string = 'azkv'

@description('Replication of the data accounts.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
])
param dataStorageSku string = 'Standard_ZRS'

@description('AzKv__Cluster__PartitionCount: partitions of a new cluster (read from cluster.json afterwards).')
@minValue(1)
@maxValue(4096)
param partitionCount int = 32

@description('AzKv__Partition__LeaseDurationSeconds: lease on active WAL segments.')
@minValue(15)
@maxValue(60)
param leaseDurationSeconds int = 30

@description('AzKv__Limits__MaxValueBytes: largest value accepted.')
@minValue(1)
param maxValueBytes int = 1048576

@description('AzKv__Auth__Mode of every node, front ends and owners alike. EntraId: each node validates Entra ID bearer tokens itself (tenant, audience, signature, lifetime, allowed clients) and authorizes by app role (AzKv.Reader, AzKv.Writer, AzKv.Admin; AzKv.Node for the region identities); use it in any shared deployment. None: no authentication, only for a private test deployment (docs/deploy.md, "Identity").')
@allowed([
  'EntraId'
  'None'
])
param apiAuthentication string = 'EntraId'

@description('Entra tenant that issues the tokens the nodes accept (with EntraId).')
param authTenantId string = tenant().tenantId

@description('Application (client) id of the AzKv API app registration (infra/deploy.sh creates it). Required with EntraId.')
param authClientId string = ''

@description('The audience every node validates; empty: authClientId (v2.0 access tokens carry the client id; infra/deploy.sh sets requestedAccessTokenVersion 2, and managed identities ask for <client id>/.default).')
param authAudience string = ''

@description('Client ids (comma-separated) allowed to call besides the console and the regions\' identities, which are added; empty: any client application of the tenant (a token still needs the audience and an app role).')
param authAllowedClientIds string = ''

@description('Application (client) id of the console\'s single-page-application registration (infra/deploy.sh creates it); empty: the console asks for a pasted token instead of offering "Sign in with Microsoft".')
param consoleClientId string = ''

@description('The scope the console asks for, e.g. api://<authClientId>/user_impersonation; empty: <audience>/.default.')
param consoleScope string = ''

@description('Owner nodes per region (one single-replica container app each).')
@minValue(1)
@maxValue(20)
param ownerCount int = 2

@description('CPU cores of each owner, as a string (Consumption profile: memory = 2 x CPU in Gi).')
param ownerCpu string = '0.5'

@description('Memory of each owner.')
param ownerMemory string = '1Gi'

@description('Seconds an owner gets between SIGTERM and SIGKILL to hand its partitions over; keep it above the lease duration.')
@minValue(30)
@maxValue(600)
param ownerTerminationGracePeriodSeconds int = 60

@description('Most instances of each region\'s front end.')
@minValue(1)
@maxValue(1000)
param functionMaximumInstanceCount int = 40

@description('Always-ready instances of each region\'s front end (billed while idle).')
@minValue(0)
@maxValue(20)
param functionAlwaysReadyInstances int = 1

@description('Memory of each front-end instance in MB.')
@allowed([
  512
  2048
  4096
])
param functionInstanceMemoryMB int = 2048

@description('Days Log Analytics keeps data.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Daily ingestion cap of each Log Analytics workspace in GB; -1 means no cap.')
param logDailyQuotaGb int = -1

@description('Tags applied to every resource.')
param tags object = {
  app: 'azkv'
}

// With EntraId and no client id, fail the deployment with a clear message rather than configure an
// authentication that rejects every token. (fail() needs a 2025 or later Bicep CLI.)
var apiClientId = apiAuthentication == 'EntraId' && empty(authClientId) ? fail('authClientId is required when apiAuthentication is EntraId: the application (client) id of the AzKv API app registration (docs/deploy.md, "Identity").') : authClientId

// The one audience front ends and owners validate.
var serverAudience = empty(authAudience) ? apiClientId : authAudience

var deploymentContainerName = 'app-package'
var registryName = 'acr${uniqueString(subscription().id, namePrefix)}'

// Storage account names: 3-24 lowercase letters and digits, globally unique.
var dataAccountNames = [for r in regions: 'st${take(replace(r.id, '-', ''), 8)}${uniqueString(subscription().id, namePrefix, r.id)}']
var hostAccountNames = [for r in regions: 'fn${take(replace(r.id, '-', ''), 8)}${uniqueString(subscription().id, namePrefix, r.id)}']
// Event Hubs namespace names: 6-50 letters, digits and hyphens, globally unique.
var eventHubsNamespaceNames = [for r in regions: 'evh-${namePrefix}-${r.id}-${uniqueString(subscription().id, namePrefix, r.id)}']

// Everything about a region that is known before deployment. `accountUrl` and `container` are what
// other regions need to replicate from it (AzKv__Peers__{i}__*).
var regionInfos = [for (r, i) in regions: {
  id: r.id
  location: r.location
  resourceGroupName: '${namePrefix}-${r.id}-rg'
  identityName: '${namePrefix}-${r.id}-id'
  dataAccountName: dataAccountNames[i]
  hostAccountName: hostAccountNames[i]
  accountUrl: 'https://${dataAccountNames[i]}.blob.${environment().suffixes.storage}'
  container: dataContainerName
  eventHubsNamespaceName: eventHubsNamespaceNames[i]
  eventHubsNamespace: '${eventHubsNamespaceNames[i]}.servicebus.windows.net'
  vnetOctet: 40 + i
}]

// Every (data account, identity) pair: Contributor when they belong to the same region, Reader otherwise.
var regionCount = length(regions)
var dataRoleAssignments = [for k in range(0, regionCount * regionCount): {
  account: k / regionCount
  identity: k % regionCount
}]

module resourceGroups 'modules/resourceGroup.bicep' = [for r in regionInfos: {
  name: '${namePrefix}-rg-${r.id}'
  params: {
    name: r.resourceGroupName
    location: r.location
    tags: tags
  }
}]

module storage 'modules/storage.bicep' = [for (r, i) in regionInfos: {
  name: '${namePrefix}-storage-${r.id}'
  scope: resourceGroup(r.resourceGroupName)
  dependsOn: [
    resourceGroups[i]
  ]
  params: {
    location: r.location
    dataAccountName: r.dataAccountName
    dataContainerName: dataContainerName
    dataSkuName: dataStorageSku
    hostAccountName: r.hostAccountName
    deploymentContainerName: deploymentContainerName
    tags: tags
  }
}]

module identities 'modules/identity.bicep' = [for (r, i) in regionInfos: {
  name: '${namePrefix}-identity-${r.id}'
  scope: resourceGroup(r.resourceGroupName)
  dependsOn: [
    resourceGroups[i]
  ]
  params: {
    name: r.identityName
    location: r.location
    tags: tags
  }
}]

module dataRoles 'modules/storageRoleAssignment.bicep' = [for a in dataRoleAssignments: {
  name: '${namePrefix}-data-role-${regionInfos[a.account].id}-${regionInfos[a.identity].id}'
  scope: resourceGroup(regionInfos[a.account].resourceGroupName)
  dependsOn: [
    storage
  ]
  params: {
    storageAccountName: regionInfos[a.account].dataAccountName
    principalId: identities[a.identity].outputs.principalId
    roleDefinitionGuid: a.account == a.identity ? roleStorageBlobDataContributor : roleStorageBlobDataReader
  }
}]

module eventHubs 'modules/eventHubs.bicep' = [for (r, i) in regionInfos: {
  name: '${namePrefix}-eventhubs-${r.id}'
  scope: resourceGroup(r.resourceGroupName)
  dependsOn: [
    resourceGroups[i]
  ]
  params: {
    namespaceName: r.eventHubsNamespaceName
    location: r.location
    regionId: r.id
    partitionCount: min(partitionCount, 32)
    readerRegionIds: map(filter(regionInfos, o => o.id != r.id), o => o.id)
    tags: tags
  }
}]

// Every (hub, identity) pair: Data Sender on its own region's hub, Data Receiver on the others'.
module eventHubsRoles 'modules/eventHubsRoleAssignment.bicep' = [for a in dataRoleAssignments: {
  name: '${namePrefix}-evh-role-${regionInfos[a.account].id}-${regionInfos[a.identity].id}'
  scope: resourceGroup(regionInfos[a.account].resourceGroupName)
  dependsOn: [
    eventHubs
  ]
  params: {
    namespaceName: regionInfos[a.account].eventHubsNamespaceName
    hubName: 'azkv-${regionInfos[a.account].id}'
    principalId: identities[a.identity].outputs.principalId
    roleDefinitionGuid: a.account == a.identity ? roleEventHubsDataSender : roleEventHubsDataReceiver
  }
}]

module hostRoles 'modules/storageRoleAssignment.bicep' = [for (r, i) in regionInfos: {
  name: '${namePrefix}-host-role-${r.id}'
  scope: resourceGroup(r.resourceGroupName)
  dependsOn: [
    storage[i]
  ]
  params: {
    storageAccountName: r.hostAccountName
    principalId: identities[i].outputs.principalId
    roleDefinitionGuid: roleStorageBlobDataOwner
  }
}]

module registry 'modules/registry.bicep' = {
  name: '${namePrefix}-registry'
  scope: resourceGroup(regionInfos[0].resourceGroupName)
  dependsOn: [
    resourceGroups[0]
  ]
  params: {
    name: registryName
    location: regionInfos[0].location
    tags: tags
  }
}

module registryRoles 'modules/registryRoleAssignment.bicep' = [for (r, i) in regionInfos: {
  name: '${namePrefix}-acrpull-role-${r.id}'
  scope: resourceGroup(regionInfos[0].resourceGroupName)
  dependsOn: [
    registry
  ]
  params: {
    registryName: registryName
    principalId: identities[i].outputs.principalId
    roleDefinitionGuid: roleAcrPull
  }
}]

module regionStacks 'modules/region.bicep' = [for (r, i) in regionInfos: {
  name: '${namePrefix}-region-${r.id}'
  scope: resourceGroup(r.resourceGroupName)
  // Roles first: the apps use their identity from their first second.
  dependsOn: [
    dataRoles
    hostRoles
    registryRoles
    eventHubsRoles
  ]
  params: {
    namePrefix: namePrefix
    regionId: r.id
    location: r.location
    allRegions: regionInfos
    vnetOctet: r.vnetOctet
    identityName: identities[i].outputs.name
    dataAccountName: r.dataAccountName
    dataContainerName: dataContainerName
    hostAccountName: r.hostAccountName
    deploymentContainerName: deploymentContainerName
    deployApps: deployApps
    ownerImage: '${registry.outputs.loginServer}/azkv-server:${ownerImageTag}'
    registryLoginServer: registry.outputs.loginServer
    ownerCount: ownerCount
    ownerCpu: ownerCpu
    ownerMemory: ownerMemory
    ownerTerminationGracePeriodSeconds: ownerTerminationGracePeriodSeconds
    partitionCount: partitionCount
    leaseDurationSeconds: leaseDurationSeconds
    maxValueBytes: maxValueBytes
    apiAuthentication: apiAuthentication
    authTenantId: authTenantId
    authAudience: serverAudience
    // With a list, the console is always on it (and the region adds its identity: node-to-node calls).
    authAllowedClientIds: empty(authAllowedClientIds) ? '' : join(union(split(authAllowedClientIds, ','), empty(consoleClientId) ? [] : [consoleClientId]), ',')
    consoleClientId: consoleClientId
    consoleScope: consoleScope
    functionMaximumInstanceCount: functionMaximumInstanceCount
    functionAlwaysReadyInstances: functionAlwaysReadyInstances
    functionInstanceMemoryMB: functionInstanceMemoryMB
    logRetentionDays: logRetentionDays
    logDailyQuotaGb: logDailyQuotaGb
    tags: tags
  }
}]

@description('Name of the container registry that holds the azkv-server image.')
output registryName string = registry.outputs.name

@description('Login server of the container registry.')
output registryLoginServer string = registry.outputs.loginServer

@description('Per region: AzKv region id, resource group, front-end function app and owner app names (the apps exist only after a deployApps=true run), and the object id of the region identity (infra/deploy.sh gives it the AzKv.Node app role).')
output regionDeployments array = [for (r, i) in regionInfos: {
  id: r.id
  resourceGroup: r.resourceGroupName
  functionAppName: regionStacks[i].outputs.functionAppName
  ownerAppNames: regionStacks[i].outputs.ownerAppNames
  dataAccountUrl: r.accountUrl
  identityPrincipalId: identities[i].outputs.principalId
}]
