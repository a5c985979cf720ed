// One resource group per region. Deployed at subscription scope by main.bicep.
targetScope = 'subscription'

@description('Name of the resource group.')
param name string

@description('Azure location of the resource group (the region it serves).')
param location string

@description('Tags applied to the resource group.')
param tags object = {}

resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: name
  location: location
  tags: tags
}

@description('Name of the resource group.')
output name string = group.name
