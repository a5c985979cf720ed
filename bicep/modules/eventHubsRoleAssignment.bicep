// Grants one built-in Event Hubs data role on one hub (in this resource group) to one managed identity.

@description('Event Hubs namespace name, in the resource group this module is deployed to.')
param namespaceName string

@description('Hub name (azkv-<region>).')
param hubName string

@description('Object (principal) id of the managed identity that receives the role.')
param principalId string

@description('GUID of the built-in role definition to grant (main.bicep names each one).')
param roleDefinitionGuid string

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = {
  name: namespaceName
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' existing = {
  parent: namespace
  name: hubName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hub.id, principalId, roleDefinitionGuid)
  scope: hub
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionGuid)
  }
}
