// Grants one built-in role on the container registry (in this resource group) to one managed identity.

@description('Name of the container registry, in the resource group this module is deployed to.')
param registryName string

@description('Object (principal) id of the managed identity that receives the role.')
param principalId string

@description('GUID of the built-in role definition to grant (main.bicep names each one).')
param roleDefinitionGuid string

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: registryName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, principalId, roleDefinitionGuid)
  scope: registry
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionGuid)
  }
}
