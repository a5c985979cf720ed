// The virtual network of one region, with two subnets, both delegated to Microsoft.App/environments:
//   container-apps  the Container Apps environment (workload profiles) of the owner tier, >= /27
//   functions       VNet integration of the Flex Consumption front end; Flex Consumption is built on
//                   Container Apps and needs this same delegation (not Microsoft.Web/serverFarms)
// Regions' networks are never peered, so every region may reuse the same address space; main.bicep
// still gives each its own /16 so peering stays possible later.

@description('Name of the virtual network.')
param name string

@description('Azure location of the virtual network.')
param location string

@description('Address space of the virtual network, e.g. 10.40.0.0/16.')
param addressPrefix string

@description('Address range of the Container Apps subnet (at least /27), e.g. 10.40.0.0/23.')
param containerAppsSubnetPrefix string

@description('Address range of the Flex Consumption integration subnet, e.g. 10.40.2.0/24.')
param functionsSubnetPrefix string

@description('Tags applied to the virtual network.')
param tags object = {}

var containerAppsSubnetName = 'container-apps'
var functionsSubnetName = 'functions'

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: containerAppsSubnetName
        properties: {
          addressPrefix: containerAppsSubnetPrefix
          delegations: [
            {
              name: 'container-apps-environment'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: functionsSubnetName
        properties: {
          addressPrefix: functionsSubnetPrefix
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
    ]
  }
}

@description('Resource id of the virtual network.')
output id string = vnet.id

@description('Resource id of the Container Apps subnet.')
output containerAppsSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, containerAppsSubnetName)

@description('Resource id of the Flex Consumption integration subnet.')
output functionsSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, functionsSubnetName)
