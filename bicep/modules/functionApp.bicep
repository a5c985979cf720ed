// The front end of one region: the isolated-worker Functions app (src/AzKv.Functions, runtime
// `dotnet-isolated` 10.0) on the Flex Consumption plan (FC1), integrated in the region's VNet so it
// reaches the internal owner tier. It is stateless: it routes each request to the partition's
// owner and holds no lease (AzKv__Roles=frontend). infra/deploy.sh publishes the project and
// deploys the zip to the deployment container named below (one deploy).
//
// Flex Consumption takes its runtime, scale and deployment storage from functionAppConfig; the
// app settings FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION and WEBSITE_RUN_FROM_PACKAGE
// are not allowed on this plan and are deliberately absent.
//
// This app is the only public entry point of a region. Callers are authenticated by the AzKv code
// behind every function (AzKv__Auth__Mode EntraId: JwtBearer against the tenant's metadata), as on
// the owners; the console and the probes stay anonymous: see docs/deploy.md, "Identity".

@description('Name of the function app (globally unique, <= 60 characters).')
@maxLength(60)
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Azure location of the plan and the app.')
param location string

@description('Resource id of the subnet (delegated to Microsoft.App/environments) for VNet integration.')
param subnetId string

@description('Resource id of the region\'s user-assigned managed identity.')
param identityId string

@description('Client id of the region\'s user-assigned managed identity.')
param identityClientId string

@description('Name of the Functions host account (AzureWebJobsStorage, accessed with the managed identity).')
param hostAccountName string

@description('Blob container of the host account that receives the app package.')
param deploymentContainerName string

@description('AzKv region id (AzKv__Region).')
param regionId string

@description('Blob endpoint of this region\'s data account (AzKv__Storage__AccountUrl).')
param dataAccountUrl string

@description('Blob container holding this region\'s data (AzKv__Storage__Container).')
param dataContainerName string

@description('Other regions to replicate from: objects with id, accountUrl and container.')
param peers array

@description('AzKv__Cluster__PartitionCount.')
param partitionCount int

@description('AzKv__Partition__LeaseDurationSeconds.')
param leaseDurationSeconds int

@description('AzKv__Limits__MaxValueBytes.')
param maxValueBytes int

@description('AzKv__Auth__Mode: EntraId (the server validates Entra ID bearer tokens itself: tenant, audience, signature, lifetime, allowed clients) or None (no authentication: a private test deployment only).')
@allowed([
  'EntraId'
  'None'
])
param apiAuthentication string

@description('AzKv__Auth__TenantId: the Entra tenant that issues the tokens (with EntraId).')
param authTenantId string

@description('AzKv__Auth__Audience: the audience every node validates, the same on front ends and owners (the AzKv API registration\'s client id: v2.0 access tokens carry it).')
param authAudience string

@description('AzKv__Auth__AllowedClientIds: comma-separated client ids allowed to call; empty: any client application of the tenant.')
param authAllowedClientIds string = ''

@description('AzKv__Auth__ConsoleClientId: client id of the console\'s single-page-application registration; empty: the console asks for a pasted token.')
param consoleClientId string = ''

@description('AzKv__Auth__ConsoleScope: the scope the console asks for; empty: <audience>/.default.')
param consoleScope string = ''

@description('Name of the region\'s Application Insights component (its connection string is read here).')
param appInsightsName string

@description('Most instances the front end scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Always-ready HTTP instances (billed while idle; 0 allows cold starts).')
@minValue(0)
param alwaysReadyInstances int = 1

@description('Memory of each instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Tags applied to the plan and the app.')
param tags object = {}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

var peerRegionSettings = [for (peer, i) in peers: {
  name: 'AzKv__Peers__${i}__Region'
  value: peer.id
}]

var peerAccountUrlSettings = [for (peer, i) in peers: {
  name: 'AzKv__Peers__${i}__AccountUrl'
  value: peer.accountUrl
}]

var peerContainerSettings = [for (peer, i) in peers: {
  name: 'AzKv__Peers__${i}__Container'
  value: peer.container
}]

// Every setting the front end reads (docs/configuration.md), in one place, plus the Functions
// host's own storage settings. The Event Hubs settings of the replication log join this list with
// the Event Hubs issue (a front end only needs them if it ever publishes; owners do).
// Not set: AzKv__Urls (the Functions host listens, not Kestrel),
// AzKv__AdvertisedUrl (a front end owns no partitions; nothing calls it but the Functions host),
// AzKv__NodeId (the default is unique per instance) and AzKv__Storage__ConnectionString (Entra ID only).
// With EntraId the server validates every bearer token itself (docs/security.md): /console,
// /console/config.json, /healthz and /readyz stay anonymous, which App Service Authentication in
// front of the app would not allow (it would also answer 401 without the API's problem+json).
var entraId = apiAuthentication == 'EntraId'

var appSettings = concat([
  {
    name: 'AzKv__Region'
    value: regionId
  }
  {
    name: 'AzKv__Roles'
    value: 'frontend'
  }
  {
    name: 'AzKv__Storage__AccountUrl'
    value: dataAccountUrl
  }
  {
    name: 'AzKv__Storage__ManagedIdentityClientId'
    value: identityClientId
  }
  {
    name: 'AzKv__Storage__Container'
    value: dataContainerName
  }
  {
    name: 'AzKv__Cluster__PartitionCount'
    value: string(partitionCount)
  }
  {
    name: 'AzKv__Partition__LeaseDurationSeconds'
    value: string(leaseDurationSeconds)
  }
  {
    name: 'AzKv__Limits__MaxValueBytes'
    value: string(maxValueBytes)
  }
  {
    name: 'AzKv__Auth__Mode'
    value: apiAuthentication
  }
  {
    name: 'AzKv__Auth__TenantId'
    value: entraId ? authTenantId : ''
  }
  {
    name: 'AzKv__Auth__Audience'
    value: entraId ? authAudience : ''
  }
  {
    name: 'AzKv__Auth__AllowedClientIds'
    value: entraId ? authAllowedClientIds : ''
  }
  {
    name: 'AzKv__Auth__ConsoleClientId'
    value: entraId ? consoleClientId : ''
  }
  {
    name: 'AzKv__Auth__ConsoleScope'
    value: entraId ? consoleScope : ''
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: appInsights.properties.ConnectionString
  }
  {
    name: 'AzureWebJobsStorage__accountName'
    value: hostAccountName
  }
  {
    name: 'AzureWebJobsStorage__credential'
    value: 'managedidentity'
  }
  {
    name: 'AzureWebJobsStorage__clientId'
    value: identityClientId
  }
], peerRegionSettings, peerAccountUrlSettings, peerContainerSettings)

// Instances kept warm for the HTTP trigger group (the only trigger here).
var alwaysReadyHttp = [
  {
    name: 'http'
    instanceCount: alwaysReadyInstances
  }
]

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    virtualNetworkSubnetId: subnetId
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: appSettings
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: 'https://${hostAccountName}.blob.${environment().suffixes.storage}/${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: alwaysReadyInstances > 0 ? alwaysReadyHttp : []
      }
      runtime: {
        // The isolated worker model on .NET 10 (src/AzKv.Functions targets net10.0). Check that a
        // location offers it: az functionapp list-flexconsumption-runtimes --location <loc> --runtime dotnet-isolated
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

@description('Name of the function app.')
output name string = site.name

@description('Default host name of the function app (the region\'s public AzKv endpoint).')
output defaultHostName string = site.properties.defaultHostName
