// The user-assigned managed identity every AzKv process of one region runs as
// (owners on Container Apps and front ends on Functions). Roles are granted by main.bicep.

@description('Name of the user-assigned managed identity.')
param name string

@description('Azure location of the identity.')
param location string

@description('Tags applied to the identity.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('Name of the identity.')
output name string = identity.name

@description('Object (principal) id of the identity, used in role assignments.')
output principalId string = identity.properties.principalId

@description('Client (application) id of the identity: the azp of its tokens (AzKv__Auth__AllowedClientIds).')
output clientId string = identity.properties.clientId
