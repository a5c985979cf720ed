// The container registry that holds the azkv-server image for the owner tier.
// One registry for all regions, in the primary region; owners pull with their managed identity (AcrPull).

@description('Name of the registry: 5-50 letters and digits, globally unique.')
@minLength(5)
@maxLength(50)
param name string

@description('Azure location of the registry (the primary region).')
param location string

@description('Tags applied to the registry.')
param tags object = {}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Basic'
  }
  properties: {
    // No admin user: pushes use the deployer's Entra ID (az acr build), pulls use AcrPull.
    adminUserEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

@description('Name of the registry.')
output name string = registry.name

@description('Login server of the registry, e.g. name.azurecr.io.')
output loginServer string = registry.properties.loginServer
