// One AzKv owner node: a container app with exactly one replica (roles `owner`).
//
// Each owner node is its own container app so it has its own stable address,
// https://<name>.<environment default domain>, which it advertises (AzKv__AdvertisedUrl) in the
// partition manifests. One app with several replicas would put all of them behind one
// load-balanced name, and the front end could not reach the replica that owns a partition.
// region.bicep deploys `ownerCount` of these.
//
// On a new revision, Container Apps starts the new replica, then sends SIGTERM to the old one and
// waits terminationGracePeriodSeconds: the old owner drains, releases its leases and updates the
// manifests within that time, so no lease has to expire.

@description('Name of the container app (lowercase letters, digits and hyphens, <= 32 characters).')
@maxLength(32)
param name string

@description('Azure location of the container app.')
param location string

@description('Resource id of the Container Apps environment.')
param environmentId string

@description('Default domain of the Container Apps environment, used to build this node\'s advertised URL.')
param environmentDefaultDomain string

@description('Full image reference of the AzKv server, e.g. myacr.azurecr.io/azkv-server:20250101.1.')
param image string

@description('Login server of the registry the image is pulled from with the managed identity.')
param registryLoginServer string

@description('Resource id of the region\'s user-assigned managed identity.')
param identityId string

@description('Client id of the region\'s user-assigned managed identity (AzKv__Storage__ManagedIdentityClientId).')
param identityClientId string

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

@description('Name of the region\'s Application Insights component (its connection string is read here).')
param appInsightsName string

@description('CPU cores of the container, as a string: 0.25, 0.5, 0.75, 1, ... (Consumption profile pairs: memory = 2 x CPU in Gi).')
param cpu string = '0.5'

@description('Memory of the container, e.g. 1Gi.')
param memory string = '1Gi'

@description('Seconds between SIGTERM and SIGKILL: time for the owner to hand its partitions over.')
@minValue(30)
@maxValue(600)
param terminationGracePeriodSeconds int = 60

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

@description('Tags applied to the container app.')
param tags object = {}

@description('This region\'s Event Hubs namespace host (the replication log).')
param eventHubsNamespace string

var port = 8080

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

var peerEventHubsSettings = [for (peer, i) in peers: {
  name: 'AzKv__Peers__${i}__EventHubsNamespace'
  value: peer.eventHubsNamespace
}]

var peerContainerSettings = [for (peer, i) in peers: {
  name: 'AzKv__Peers__${i}__Container'
  value: peer.container
}]

// Every setting the owner reads (docs/configuration.md), in one place.
// Not set: AzKv__NodeId (the default, host name + process id, is unique per replica, also while an
// old and a new revision overlap) and AzKv__Storage__ConnectionString (Entra ID only).
// With EntraId an owner validates the same tokens as the front end (same tenant and audience): the
// front end forwards the caller's token and the owner authorizes it again; node-to-node calls carry
// the region identity's token, which holds the AzKv.Node app role (infra/deploy.sh assigns it).
var entraId = apiAuthentication == 'EntraId'

var appSettings = concat([
  {
    name: 'AzKv__Region'
    value: regionId
  }
  {
    name: 'AzKv__Roles'
    value: 'owner'
  }
  {
    name: 'AzKv__Urls'
    value: 'http://0.0.0.0:${port}'
  }
  {
    name: 'AzKv__AdvertisedUrl'
    value: 'https://${name}.${environmentDefaultDomain}'
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
    // The replication log: publish to this region's hub, read the peers' (docs/replication.md).
    name: 'AzKv__EventHubs__FullyQualifiedNamespace'
    value: eventHubsNamespace
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: appInsights.properties.ConnectionString
  }
], peerRegionSettings, peerAccountUrlSettings, peerContainerSettings, peerEventHubsSettings)

resource app 'Microsoft.App/containerApps@2025-01-01' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        // "External" inside an internal environment means reachable from the VNet (the front
        // end), not from the internet.
        external: true
        targetPort: port
        transport: 'http'
        allowInsecure: false
      }
      registries: [
        {
          server: registryLoginServer
          identity: identityId
        }
      ]
    }
    template: {
      terminationGracePeriodSeconds: terminationGracePeriodSeconds
      containers: [
        {
          name: 'azkv-server'
          image: image
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          env: appSettings
          probes: [
            {
              type: 'Liveness'
              httpGet: {
                path: '/healthz'
                port: port
              }
              initialDelaySeconds: 10
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/readyz'
                port: port
              }
              initialDelaySeconds: 5
              periodSeconds: 5
              failureThreshold: 3
            }
          ]
        }
      ]
      scale: {
        // One replica, always: the node renews its leases in the background and must not scale
        // to zero; a second replica would share this node's address (see the top of the file).
        minReplicas: 1
        maxReplicas: 1
      }
    }
  }
}

@description('Name of the container app.')
output name string = app.name

@description('Fully qualified domain name of the container app (inside the VNet).')
output fqdn string = app.properties.configuration.ingress.fqdn
