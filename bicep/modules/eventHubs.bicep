// One region's replication log (docs/replication.md): an Event Hubs namespace (Standard), the hub
// azkv-<region> its owners publish to, and a consumer group per other region that reads it.

@description('Event Hubs namespace name (6-50 characters, globally unique).')
param namespaceName string

@description('Azure location.')
param location string

@description('AzKv region id: the hub is azkv-<regionId>.')
param regionId string

@description('Hub partitions: one per kv partition up to 32 (Standard), so at most a few readers share one.')
@minValue(1)
@maxValue(32)
param partitionCount int

@description('The other regions: one consumer group each, named by its id.')
param readerRegionIds array

@description('Days an event stays readable (Standard: 1-7); a reader away longer catches up from the blobs.')
@minValue(1)
@maxValue(7)
param retentionDays int = 1

@description('Tags.')
param tags object = {}

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: namespaceName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
    capacity: 1
  }
  properties: {
    // Entra ID only: the owners use their managed identity (Data Sender / Data Receiver roles).
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  parent: namespace
  name: 'azkv-${regionId}'
  properties: {
    partitionCount: partitionCount
    messageRetentionInDays: retentionDays
  }
}

resource readers 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2024-01-01' = [for reader in readerRegionIds: {
  parent: hub
  name: reader
}]

@description('The namespace host (AzKv__EventHubs__FullyQualifiedNamespace).')
output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
