// Grants one built-in role on one storage account (in this resource group) to one managed identity.

@description('Name of the storage account, in the resource group this module is deployed to.')
param storageAccountName string

@description('Object (principal) id of the managed identity that receives the role.')
param principalId string

@description('GUID of the built-in role definition to grant (main.bicep names each one).')
param roleDefinitionGuid string

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, roleDefinitionGuid)
  scope: account
  properties: {
    principalId: principalId
    // ServicePrincipal: the identity is brand new; this skips the directory lookup that can
    // fail while the principal is still replicating.
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionGuid)
  }
}
