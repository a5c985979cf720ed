// Everything of one region after storage, identity and roles exist (main.bicep makes those first):
// network, monitoring, the internal Container Apps environment with its private DNS, the owner
// nodes and the Flex Consumption front end. Deployed into the region's resource group.

@description('Prefix of every resource name.')
param namePrefix string

@description('AzKv region id (AzKv__Region).')
param regionId string

@description('Azure location of the region.')
param location string

@description('All regions, as main.bicep describes them (id, accountUrl, container, ...); the others become this region\'s peers.')
param allRegions array

@description('Second octet of this region\'s 10.x.0.0/16 address space.')
@minValue(0)
@maxValue(255)
param vnetOctet int

@description('Name of the region\'s user-assigned managed identity (already created).')
param identityName string

@description('Name of the region\'s AzKv data account (already created).')
param dataAccountName string

@description('Blob container holding the region\'s data.')
param dataContainerName string

@description('Name of the region\'s Functions host account (already created).')
param hostAccountName string

@description('Blob container of the host account that receives the app package.')
param deploymentContainerName string

@description('false deploys the network, monitoring and Container Apps environment only; true also the owners and the front end.')
param deployApps bool

@description('Full image reference of the AzKv server for the owners.')
param ownerImage string

@description('Login server of the container registry.')
param registryLoginServer string

@description('Number of owner nodes (one container app each).')
@minValue(1)
param ownerCount int

@description('CPU cores of each owner, as a string (e.g. 0.5).')
param ownerCpu string

@description('Memory of each owner (e.g. 1Gi).')
param ownerMemory string

@description('Seconds an owner gets between SIGTERM and SIGKILL to hand its partitions over.')
param ownerTerminationGracePeriodSeconds int

@description('AzKv__Cluster__PartitionCount.')
param partitionCount int

@description('AzKv__Partition__LeaseDurationSeconds.')
param leaseDurationSeconds int

@description('AzKv__Limits__MaxValueBytes.')
param maxValueBytes int

@description('AzKv__Auth__Mode of every node of the region: EntraId or None (private test deployment only).')
@allowed([
  'EntraId'
  'None'
])
param apiAuthentication string

@description('Entra tenant that issues the tokens the nodes accept.')
param authTenantId string

@description('The audience every node validates (the AzKv API registration\'s client id).')
param authAudience string

@description('Client ids allowed to call, comma-separated; empty: any client of the tenant.')
param authAllowedClientIds string

@description('Client id of the console\'s single-page-application registration; empty: no Microsoft sign-in in the console.')
param consoleClientId string

@description('Scope the console asks for; empty: <audience>/.default.')
param consoleScope string

// With a list of allowed clients, this region's identity joins it: its tokens (node-to-node calls)
// carry its client id as azp.
var allowedClientIds = empty(authAllowedClientIds) ? '' : '${authAllowedClientIds},${identity.properties.clientId}'

@description('Most instances of the front end.')
param functionMaximumInstanceCount int

@description('Always-ready instances of the front end.')
param functionAlwaysReadyInstances int

@description('Memory of each front-end instance in MB.')
param functionInstanceMemoryMB int

@description('Days Log Analytics keeps data.')
param logRetentionDays int

@description('Daily ingestion cap of Log Analytics in GB (-1: none).')
param logDailyQuotaGb int

@description('Tags applied to every resource.')
param tags object = {}

// Every other region, in the order of main.bicep's regions: AzKv__Peers__0, __1, ...
var peers = filter(allRegions, r => r.id != regionId)
var dataAccountUrl = 'https://${dataAccountName}.blob.${environment().suffixes.storage}'
var functionAppName = '${namePrefix}-${regionId}-fe-${uniqueString(resourceGroup().id)}'
var ownerAppNames = [for i in range(0, ownerCount): '${namePrefix}-owner-${i}']

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
}

module network 'network.bicep' = {
  name: '${namePrefix}-network'
  params: {
    name: '${namePrefix}-${regionId}-vnet'
    location: location
    addressPrefix: '10.${vnetOctet}.0.0/16'
    containerAppsSubnetPrefix: '10.${vnetOctet}.0.0/23'
    functionsSubnetPrefix: '10.${vnetOctet}.2.0/24'
    tags: tags
  }
}

module monitoring 'monitoring.bicep' = {
  name: '${namePrefix}-monitoring'
  params: {
    location: location
    workspaceName: '${namePrefix}-${regionId}-log'
    appInsightsName: '${namePrefix}-${regionId}-appi'
    retentionInDays: logRetentionDays
    dailyQuotaGb: logDailyQuotaGb
    tags: tags
  }
}

module containerEnvironment 'containerEnvironment.bicep' = {
  name: '${namePrefix}-container-environment'
  params: {
    name: '${namePrefix}-${regionId}-cae'
    location: location
    subnetId: network.outputs.containerAppsSubnetId
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    tags: tags
  }
}

module privateDns 'privateDns.bicep' = {
  name: '${namePrefix}-private-dns'
  params: {
    zoneName: containerEnvironment.outputs.defaultDomain
    vnetId: network.outputs.id
    ipAddress: containerEnvironment.outputs.staticIp
    tags: tags
  }
}

// One owner at a time: ARM finishes provisioning one container app's new revision before it
// starts the next, so a rollout does not move every node's partitions at once.
@batchSize(1)
// The replication log (eventHubs.bicep and its roles) is deployed by main.bicep with the storage, so
// the cross-region Data Receiver roles are plain; the owners get the namespaces in their settings.

module owners 'ownerApp.bicep' = [for (ownerName, i) in ownerAppNames: if (deployApps) {
  name: '${namePrefix}-owner-${i}'
  // Owners advertise names in this zone: it exists before any node publishes one.
  dependsOn: [
    privateDns
  ]
  params: {
    name: ownerName
    location: location
    environmentId: containerEnvironment.outputs.id
    environmentDefaultDomain: containerEnvironment.outputs.defaultDomain
    image: ownerImage
    registryLoginServer: registryLoginServer
    identityId: identity.id
    identityClientId: identity.properties.clientId
    regionId: regionId
    dataAccountUrl: dataAccountUrl
    dataContainerName: dataContainerName
    peers: peers
    eventHubsNamespace: filter(allRegions, r => r.id == regionId)[0].eventHubsNamespace
    partitionCount: partitionCount
    leaseDurationSeconds: leaseDurationSeconds
    maxValueBytes: maxValueBytes
    appInsightsName: monitoring.outputs.appInsightsName
    cpu: ownerCpu
    memory: ownerMemory
    terminationGracePeriodSeconds: ownerTerminationGracePeriodSeconds
    apiAuthentication: apiAuthentication
    authTenantId: authTenantId
    authAudience: authAudience
    authAllowedClientIds: allowedClientIds
    consoleClientId: consoleClientId
    consoleScope: consoleScope
    tags: tags
  }
}]

module frontEnd 'functionApp.bicep' = if (deployApps) {
  name: '${namePrefix}-frontend'
  // The front end calls owners by name: the private DNS zone must exist first.
  dependsOn: [
    privateDns
  ]
  params: {
    name: functionAppName
    planName: '${namePrefix}-${regionId}-plan'
    location: location
    subnetId: network.outputs.functionsSubnetId
    identityId: identity.id
    identityClientId: identity.properties.clientId
    hostAccountName: hostAccountName
    deploymentContainerName: deploymentContainerName
    regionId: regionId
    dataAccountUrl: dataAccountUrl
    dataContainerName: dataContainerName
    peers: peers
    partitionCount: partitionCount
    leaseDurationSeconds: leaseDurationSeconds
    maxValueBytes: maxValueBytes
    apiAuthentication: apiAuthentication
    authTenantId: authTenantId
    authAudience: authAudience
    authAllowedClientIds: allowedClientIds
    consoleClientId: consoleClientId
    consoleScope: consoleScope
    appInsightsName: monitoring.outputs.appInsightsName
    maximumInstanceCount: functionMaximumInstanceCount
    alwaysReadyInstances: functionAlwaysReadyInstances
    instanceMemoryMB: functionInstanceMemoryMB
    tags: tags
  }
}

@description('Name of the front-end function app (it exists only when deployApps is true).')
output functionAppName string = functionAppName

@description('Names of the owner container apps (they exist only when deployApps is true).')
output ownerAppNames array = ownerAppNames

@description('Default domain of the Container Apps environment (owners are https://<owner name>.<this>).')
output environmentDefaultDomain string = containerEnvironment.outputs.defaultDomain
