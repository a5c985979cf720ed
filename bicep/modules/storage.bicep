// Storage of one region: the AzKv data account and the Functions host account.
//
// The data account holds the region's cluster (container `azkv`): WAL append blobs, manifests,
// checkpoints. The region's identity gets Storage Blob Data Contributor on it and every other
// region's identity gets Storage Blob Data Reader (main.bicep).
//
// The host account is the front end's AzureWebJobsStorage plus the Flex Consumption deployment
// container. It is separate because the Functions host needs Storage Blob Data Owner on its
// storage; keeping it apart leaves the data account with exactly Contributor/Reader.
//
// Both accounts: Entra ID only (no shared keys), TLS 1.2, HTTPS only, no anonymous access.

@description('Azure location of both accounts.')
param location string

@description('Name of the AzKv data account: 3-24 lowercase letters and digits, globally unique.')
@minLength(3)
@maxLength(24)
param dataAccountName string

@description('Blob container holding this region\'s AzKv data (AzKv__Storage__Container).')
param dataContainerName string

@description('Replication of the data account. ZRS survives a zone outage; geo-redundancy is AzKv\'s own job (regions replicate each other).')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
])
param dataSkuName string = 'Standard_ZRS'

@description('Days a deleted blob or container of the data account can be restored (soft delete). 0 turns it off.')
@minValue(0)
@maxValue(365)
param dataSoftDeleteDays int = 7

@description('Name of the Functions host account (AzureWebJobsStorage and app package): 3-24 lowercase letters and digits, globally unique.')
@minLength(3)
@maxLength(24)
param hostAccountName string

@description('Blob container that receives the Flex Consumption app package.')
param deploymentContainerName string

@description('Tags applied to both accounts.')
param tags object = {}

resource dataAccount 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: dataAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: dataSkuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource dataBlobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: dataAccount
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: dataSoftDeleteDays > 0
      days: max(dataSoftDeleteDays, 1) // ignored while disabled, but must be 1-365
    }
    containerDeleteRetentionPolicy: {
      enabled: dataSoftDeleteDays > 0
      days: max(dataSoftDeleteDays, 1) // ignored while disabled, but must be 1-365
    }
  }
}

resource dataContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: dataBlobService
  name: dataContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource hostAccount 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: hostAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource hostBlobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: hostAccount
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: hostBlobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

@description('Blob endpoint of the data account (AzKv__Storage__AccountUrl), without a trailing slash.')
output dataBlobEndpoint string = 'https://${dataAccount.name}.blob.${environment().suffixes.storage}'
